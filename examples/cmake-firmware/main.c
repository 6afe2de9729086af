/* blinky: toggles the LED every half second. */
#include "board.h"

#include <string.h>

int main(void)
{
	uint32_t next = 500;
	int on = 0;

	board_init(16000000u);
	/* keeps the version string linked in */
	if (strlen(firmware_version) == 0)
		return 1;
	for (;;) {
		if ((int32_t)(board_ticks() - next) >= 0) {
			on = !on;
			board_led(on);
			next += 500;
		}
	}
}

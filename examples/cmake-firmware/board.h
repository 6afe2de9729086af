/* blinky's board: a SysTick tick and one LED on a GPIO port. */
#ifndef BLINKY_BOARD_H
#define BLINKY_BOARD_H

#include <stdint.h>

void board_init(uint32_t core_hz);
uint32_t board_ticks(void);
void board_led(int on);

extern const char firmware_version[];

#endif

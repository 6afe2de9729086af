/* blinky's board: SysTick at 1 kHz and the LED on GPIOA pin 5. */
#include "board.h"

#define SYST_CSR    (*(volatile uint32_t *)0xe000e010u)
#define SYST_RVR    (*(volatile uint32_t *)0xe000e014u)
#define SYST_CVR    (*(volatile uint32_t *)0xe000e018u)
#define RCC_AHB1ENR (*(volatile uint32_t *)0x40023830u)
#define GPIOA_MODER (*(volatile uint32_t *)0x40020000u)
#define GPIOA_BSRR  (*(volatile uint32_t *)0x40020018u)

static volatile uint32_t ticks;

void SysTick_Handler(void);

void SysTick_Handler(void)
{
	ticks++;
}

void board_init(uint32_t core_hz)
{
	RCC_AHB1ENR |= 1u; /* GPIOA clock */
	GPIOA_MODER = (GPIOA_MODER & ~(3u << 10)) | (1u << 10); /* PA5 out */
	SYST_RVR = core_hz / 1000u - 1u;
	SYST_CVR = 0;
	SYST_CSR = 7u; /* core clock, interrupt, enabled */
}

uint32_t board_ticks(void)
{
	return ticks;
}

void board_led(int on)
{
	GPIOA_BSRR = on ? (1u << 5) : (1u << 21);
}

/* blinky's start: the vector table and the reset handler. */
#include <stdint.h>

extern uint32_t _estack, _sidata, _sdata, _edata, _sbss, _ebss;

int main(void);
void Reset_Handler(void);
void Default_Handler(void);
void SysTick_Handler(void);

void Default_Handler(void)
{
	for (;;)
		;
}

/* Copies .data from flash, clears .bss, runs main. */
void Reset_Handler(void)
{
	uint32_t *src = &_sidata, *dst = &_sdata;

	while (dst < &_edata)
		*dst++ = *src++;
	for (dst = &_sbss; dst < &_ebss; dst++)
		*dst = 0;
	main();
	for (;;)
		;
}

/* The Cortex-M core's exceptions; the first word is the stack's top. */
__attribute__((section(".isr_vector"), used)) static void *const vectors[16] = {
	&_estack,
	Reset_Handler,
	Default_Handler,
	Default_Handler,
	Default_Handler,
	Default_Handler,
	Default_Handler,
	0,
	0,
	0,
	0,
	Default_Handler,
	Default_Handler,
	0,
	Default_Handler,
	SysTick_Handler,
};

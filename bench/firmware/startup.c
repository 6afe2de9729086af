/*
 * Start-up code of the benchmark firmware (stm32f4.ld): the vector table
 * at the start of the image and the reset handler that sets up C (copies
 * .data from flash, clears .bss, enables the FPU, runs constructors) before
 * main(). Handlers are weak, so a program (or an RTOS port) overrides the
 * ones it serves; the others spin in default_handler.
 */
#include <stdint.h>

extern uint32_t _estack, _sidata, _sdata, _edata, _sbss, _ebss;
extern int main(void);
extern void __libc_init_array(void);

void Reset_Handler(void);

void default_handler(void)
{
	for (;;) {
	}
}

#define WEAK_HANDLER(name)                                                     \
	void name(void) __attribute__((weak, alias("default_handler")))

WEAK_HANDLER(NMI_Handler);
WEAK_HANDLER(HardFault_Handler);
WEAK_HANDLER(MemManage_Handler);
WEAK_HANDLER(BusFault_Handler);
WEAK_HANDLER(UsageFault_Handler);
WEAK_HANDLER(SVC_Handler);
WEAK_HANDLER(DebugMon_Handler);
WEAK_HANDLER(PendSV_Handler);
WEAK_HANDLER(SysTick_Handler);
WEAK_HANDLER(WWDG_IRQHandler);
WEAK_HANDLER(FLASH_IRQHandler);
WEAK_HANDLER(RCC_IRQHandler);
WEAK_HANDLER(EXTI0_IRQHandler);
WEAK_HANDLER(DMA1_Stream5_IRQHandler);
WEAK_HANDLER(DMA1_Stream6_IRQHandler);
WEAK_HANDLER(TIM2_IRQHandler);
WEAK_HANDLER(USART1_IRQHandler);
WEAK_HANDLER(USART2_IRQHandler);
WEAK_HANDLER(ETH_IRQHandler);
WEAK_HANDLER(OTG_FS_IRQHandler);
WEAK_HANDLER(RNG_IRQHandler);

typedef void (*vector)(void);

/* 16 system entries, then the STM32F429's 91 interrupt lines. */
#define IRQ_LINES 91
#define IRQ(n)    [16 + (n)]

/* Every entry defaults to default_handler; the named ones override it. */
#pragma GCC diagnostic ignored "-Woverride-init"
__attribute__((section(".isr_vector"), used))
const vector vectors[16 + IRQ_LINES] = {
	[2 ... 16 + IRQ_LINES - 1] = default_handler,
	[7 ... 10] = 0, /* reserved */
	[13] = 0,
	[0] = (vector)(uintptr_t)&_estack,
	[1] = Reset_Handler,
	[2] = NMI_Handler,
	[3] = HardFault_Handler,
	[4] = MemManage_Handler,
	[5] = BusFault_Handler,
	[6] = UsageFault_Handler,
	[11] = SVC_Handler,
	[12] = DebugMon_Handler,
	[14] = PendSV_Handler,
	[15] = SysTick_Handler,
	IRQ(0) = WWDG_IRQHandler,
	IRQ(4) = FLASH_IRQHandler,
	IRQ(5) = RCC_IRQHandler,
	IRQ(6) = EXTI0_IRQHandler,
	IRQ(16) = DMA1_Stream5_IRQHandler,
	IRQ(17) = DMA1_Stream6_IRQHandler,
	IRQ(28) = TIM2_IRQHandler,
	IRQ(37) = USART1_IRQHandler,
	IRQ(38) = USART2_IRQHandler,
	IRQ(61) = ETH_IRQHandler,
	IRQ(67) = OTG_FS_IRQHandler,
	IRQ(80) = RNG_IRQHandler,
};

#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)

void Reset_Handler(void)
{
	uint32_t *src = &_sidata, *dst;

	for (dst = &_sdata; dst < &_edata;)
		*dst++ = *src++;
	for (dst = &_sbss; dst < &_ebss;)
		*dst++ = 0;
#if defined(__ARM_FP)
	SCB_CPACR |= 0xFu << 20; /* CP10, CP11: full access to the FPU */
	__asm volatile("dsb\n\tisb");
#endif
	__libc_init_array();
	main();
	for (;;) {
	}
}

/*
 * Board support for the benchmark firmware (board.h). Polled drivers: the
 * update agent needs no interrupts but SysTick's.
 */
#include "board.h"

#define REG(addr) (*(volatile uint32_t *)(addr))

#define RCC_BASE      0x40023800u
#define RCC_AHB1ENR   REG(RCC_BASE + 0x30u)
#define RCC_APB2ENR   REG(RCC_BASE + 0x44u)
#define GPIOA_BASE    0x40020000u
#define GPIOA_MODER   REG(GPIOA_BASE + 0x00u)
#define GPIOA_OSPEED  REG(GPIOA_BASE + 0x08u)
#define GPIOA_AFRH    REG(GPIOA_BASE + 0x24u)
#define USART1_BASE   0x40011000u
#define USART1_SR     REG(USART1_BASE + 0x00u)
#define USART1_DR     REG(USART1_BASE + 0x04u)
#define USART1_BRR    REG(USART1_BASE + 0x08u)
#define USART1_CR1    REG(USART1_BASE + 0x0Cu)
#define USART_SR_RXNE (1u << 5)
#define USART_SR_TXE  (1u << 7)
#define USART_SR_ORE  (1u << 3)

#define SYST_CSR  REG(0xE000E010u)
#define SYST_RVR  REG(0xE000E014u)
#define SYST_CVR  REG(0xE000E018u)
#define SCB_AIRCR REG(0xE000ED0Cu)

#define FLASH_BASE          0x40023C00u
#define FLASH_KEYR          REG(FLASH_BASE + 0x04u)
#define FLASH_SR            REG(FLASH_BASE + 0x0Cu)
#define FLASH_CR            REG(FLASH_BASE + 0x10u)
#define FLASH_KEY1          0x45670123u
#define FLASH_KEY2          0xCDEF89ABu
#define FLASH_SR_BSY        (1u << 16)
#define FLASH_SR_ERRS       0xF2u /* OPERR, WRPERR, PGAERR, PGPERR, PGSERR */
#define FLASH_CR_PG         (1u << 0)
#define FLASH_CR_SER        (1u << 1)
#define FLASH_CR_PSIZE_WORD (2u << 8)
#define FLASH_CR_STRT       (1u << 16)
#define FLASH_CR_LOCK       (1u << 31)

static volatile uint32_t ticks;

void board_tick(void)
{
	ticks++;
}

/* Weak: an RTOS takes SysTick over and calls board_tick() from its hook. */
__attribute__((weak)) void SysTick_Handler(void)
{
	board_tick();
}

uint32_t board_millis(void)
{
	return ticks;
}

void board_init(void)
{
	RCC_AHB1ENR |= 1u << 0; /* GPIOA */
	RCC_APB2ENR |= 1u << 4; /* USART1 */
	/* PA9 TX, PA10 RX: alternate function 7 */
	GPIOA_MODER = (GPIOA_MODER & ~(0xFu << 18)) | (0xAu << 18);
	GPIOA_OSPEED |= 0xFu << 18;
	GPIOA_AFRH = (GPIOA_AFRH & ~0xFF0u) | 0x770u;
	USART1_BRR = (BOARD_HCLK_HZ + 115200u / 2u) / 115200u;
	USART1_CR1 = (1u << 13) | (1u << 3) | (1u << 2); /* UE, TE, RE */
	SYST_RVR = BOARD_HCLK_HZ / 1000u - 1u;
	SYST_CVR = 0;
	SYST_CSR = 7u; /* processor clock, interrupt, enable */
}

void uart_putc(char c)
{
	while (!(USART1_SR & USART_SR_TXE)) {
	}
	USART1_DR = (uint8_t)c;
}

void uart_write(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			uart_putc('\r');
		uart_putc(s[i]);
	}
}

int uart_getc(uint32_t timeout_ms)
{
	uint32_t start = ticks;

	for (;;) {
		uint32_t sr = USART1_SR;

		if (sr & USART_SR_RXNE)
			return (int)(USART1_DR & 0xFFu);
		if (sr & USART_SR_ORE)
			(void)USART1_DR; /* overrun: reading DR clears it */
		if (timeout_ms && ticks - start >= timeout_ms)
			return -1;
	}
}

void board_reset(void)
{
	__asm volatile("dsb");
	SCB_AIRCR = 0x05FA0004u; /* VECTKEY, SYSRESETREQ */
	__asm volatile("dsb");
	for (;;) {
	}
}

static int flash_wait(void)
{
	uint32_t sr;

	while ((sr = FLASH_SR) & FLASH_SR_BSY) {
	}
	if (sr & FLASH_SR_ERRS) {
		FLASH_SR = sr & FLASH_SR_ERRS; /* write 1 to clear */
		return -(int)(sr & FLASH_SR_ERRS);
	}
	return 0;
}

int flash_unlock(void)
{
	if (FLASH_CR & FLASH_CR_LOCK) {
		FLASH_KEYR = FLASH_KEY1;
		FLASH_KEYR = FLASH_KEY2;
	}
	return (FLASH_CR & FLASH_CR_LOCK) ? -1 : 0;
}

void flash_lock(void)
{
	FLASH_CR |= FLASH_CR_LOCK;
}

/*
 * The STM32F42x's two banks of 1 MiB: 4 x 16 KiB, 64 KiB, 7 x 128 KiB each;
 * sectors 12..23 are bank 2 and are selected as SNB 16..27.
 */
uint32_t flash_sector_size(unsigned sector)
{
	unsigned s = sector % 12u;

	return s < 4u ? 16384u : s == 4u ? 65536u : 131072u;
}

int flash_sector_of(uint32_t addr)
{
	uint32_t base = 0x08000000u;

	for (unsigned s = 0; s < 24u; s++) {
		uint32_t size = flash_sector_size(s);

		if (addr >= base && addr - base < size)
			return (int)s;
		base += size;
	}
	return -1;
}

int flash_erase_sector(unsigned sector)
{
	unsigned snb = sector < 12u ? sector : sector + 4u;
	int err;

	if (sector >= 24u)
		return -1;
	if ((err = flash_wait()) != 0)
		return err;
	FLASH_CR = FLASH_CR_PSIZE_WORD | FLASH_CR_SER | (snb << 3);
	FLASH_CR |= FLASH_CR_STRT;
	err = flash_wait();
	FLASH_CR = 0;
	return err;
}

int flash_program(uint32_t addr, const uint8_t *data, size_t len)
{
	int err = 0;

	if ((addr & 3u) || (len & 3u))
		return -1; /* word programming only */
	FLASH_CR = FLASH_CR_PSIZE_WORD | FLASH_CR_PG;
	for (size_t i = 0; i < len && !err; i += 4) {
		uint32_t w = (uint32_t)data[i] | (uint32_t)data[i + 1] << 8 |
			     (uint32_t)data[i + 2] << 16 |
			     (uint32_t)data[i + 3] << 24;

		REG(addr + i) = w;
		err = flash_wait();
		if (!err && REG(addr + i) != w)
			err = -1; /* read back differs */
	}
	FLASH_CR = 0;
	return err;
}

#define RCC_APB1ENR    REG(RCC_BASE + 0x40u)
#define GPIOB_BASE     0x40020400u
#define GPIOB_MODER    REG(GPIOB_BASE + 0x00u)
#define GPIOB_OTYPE    REG(GPIOB_BASE + 0x04u)
#define GPIOB_PUPDR    REG(GPIOB_BASE + 0x0Cu)
#define GPIOB_AFRH     REG(GPIOB_BASE + 0x24u)
#define I2C1_BASE      0x40005400u
#define I2C1_CR1       REG(I2C1_BASE + 0x00u)
#define I2C1_CR2       REG(I2C1_BASE + 0x04u)
#define I2C1_DR        REG(I2C1_BASE + 0x10u)
#define I2C1_SR1       REG(I2C1_BASE + 0x14u)
#define I2C1_SR2       REG(I2C1_BASE + 0x18u)
#define I2C1_CCR       REG(I2C1_BASE + 0x1Cu)
#define I2C1_TRISE     REG(I2C1_BASE + 0x20u)
#define I2C_CR1_PE     (1u << 0)
#define I2C_CR1_START  (1u << 8)
#define I2C_CR1_STOP   (1u << 9)
#define I2C_CR1_ACK    (1u << 10)
#define I2C_CR1_SWRST  (1u << 15)
#define I2C_SR1_SB     (1u << 0)
#define I2C_SR1_ADDR   (1u << 1)
#define I2C_SR1_BTF    (1u << 2)
#define I2C_SR1_RXNE   (1u << 6)
#define I2C_SR1_TXE    (1u << 7)
#define I2C_SR1_BERR   (1u << 8)
#define I2C_SR1_ARLO   (1u << 9)
#define I2C_SR1_AF     (1u << 10)
#define I2C_TIMEOUT_MS 10u

void i2c_init(void)
{
	RCC_AHB1ENR |= 1u << 1;  /* GPIOB */
	RCC_APB1ENR |= 1u << 21; /* I2C1 */
	/* PB8, PB9: alternate function 4, open drain, pull-up */
	GPIOB_MODER = (GPIOB_MODER & ~(0xFu << 16)) | (0xAu << 16);
	GPIOB_OTYPE |= 3u << 8;
	GPIOB_PUPDR = (GPIOB_PUPDR & ~(0xFu << 16)) | (0x5u << 16);
	GPIOB_AFRH = (GPIOB_AFRH & ~0xFFu) | 0x44u;
	I2C1_CR1 = I2C_CR1_SWRST;
	I2C1_CR1 = 0;
	I2C1_CR2 = BOARD_HCLK_HZ / 1000000u; /* APB1 clock in MHz */
	/* standard mode: SCL high and low for CCR periods of APB1 each */
	I2C1_CCR = BOARD_HCLK_HZ / (2u * 100000u);
	I2C1_TRISE = BOARD_HCLK_HZ / 1000000u + 1u; /* 1000 ns rise time */
	I2C1_CR1 = I2C_CR1_PE;
}

/* Waits for a bit of SR1; -1 on a NAK, -2 on a bus error or timeout. */
static int i2c_wait(uint32_t bit)
{
	uint32_t start = ticks;

	for (;;) {
		uint32_t sr = I2C1_SR1;

		if (sr & bit)
			return 0;
		if (sr & I2C_SR1_AF) {
			I2C1_SR1 = ~I2C_SR1_AF; /* rc_w0 */
			I2C1_CR1 |= I2C_CR1_STOP;
			return -1;
		}
		if ((sr & (I2C_SR1_BERR | I2C_SR1_ARLO)) ||
		    ticks - start >= I2C_TIMEOUT_MS) {
			I2C1_SR1 = ~(I2C_SR1_BERR | I2C_SR1_ARLO);
			I2C1_CR1 |= I2C_CR1_STOP;
			return -2;
		}
	}
}

static int i2c_start(uint8_t addr_rw)
{
	int err;

	I2C1_CR1 |= I2C_CR1_START;
	if ((err = i2c_wait(I2C_SR1_SB)) != 0)
		return err;
	I2C1_DR = addr_rw;
	return i2c_wait(I2C_SR1_ADDR);
}

int i2c_write(uint8_t addr, const uint8_t *data, size_t len)
{
	int err;

	if ((err = i2c_start((uint8_t)(addr << 1))) != 0)
		return err;
	(void)I2C1_SR2; /* reading SR2 after SR1 clears ADDR */
	for (size_t i = 0; i < len; i++) {
		if ((err = i2c_wait(I2C_SR1_TXE)) != 0)
			return err;
		I2C1_DR = data[i];
	}
	if ((err = i2c_wait(I2C_SR1_BTF)) != 0)
		return err;
	I2C1_CR1 |= I2C_CR1_STOP;
	return 0;
}

int i2c_read(uint8_t addr, uint8_t *data, size_t len)
{
	int err;

	if (len == 0)
		return 0;
	I2C1_CR1 |= I2C_CR1_ACK;
	if ((err = i2c_start((uint8_t)(addr << 1 | 1u))) != 0)
		return err;
	/* A single byte is NAKed: ACK off and STOP queued before ADDR clears */
	if (len == 1)
		I2C1_CR1 &= ~I2C_CR1_ACK;
	(void)I2C1_SR2;
	for (size_t i = 0; i < len; i++) {
		if (i + 1 == len) {
			I2C1_CR1 &= ~I2C_CR1_ACK;
			I2C1_CR1 |= I2C_CR1_STOP;
		}
		if ((err = i2c_wait(I2C_SR1_RXNE)) != 0)
			return err;
		data[i] = (uint8_t)I2C1_DR;
	}
	return 0;
}

/*
 * The board support of the benchmark firmware: an STM32F429-class MCU,
 * its USART1 console, SysTick, the flash controller (sector erase, word
 * programming) and reset. Register addresses are the STM32F4's.
 */
#ifndef BOARD_H
#define BOARD_H

#include <stddef.h>
#include <stdint.h>

#define BOARD_HCLK_HZ 16000000u /* HSI, as out of reset */

/* Flash layout: the running slot and the slot an update is written to. */
#define SLOT_SIZE   (896u * 1024u)
#define SLOT_A_ADDR 0x08020000u /* sectors 5..11 (after the boot area) */
#define SLOT_B_ADDR 0x08120000u /* sectors 17..23 of bank 2 */

void board_init(void);
void uart_putc(char c);
int uart_getc(uint32_t timeout_ms); /* -1 on timeout */
void uart_write(const char *s, size_t len);
uint32_t board_millis(void);
void board_tick(void); /* once a millisecond, from SysTick */
void board_reset(void) __attribute__((noreturn));

/*
 * I2C1 master on PB8 (SCL) and PB9 (SDA), 100 kHz, polled. addr is the
 * 7-bit address. 0, or -1 when the device does not acknowledge its address
 * (busy or absent), -2 on a bus error or a timeout.
 */
void i2c_init(void);
int i2c_write(uint8_t addr, const uint8_t *data, size_t len);
int i2c_read(uint8_t addr, uint8_t *data, size_t len);

/* 0 or a negative value on a flash error (status register bits). */
int flash_unlock(void);
void flash_lock(void);
int flash_erase_sector(unsigned sector);
int flash_program(uint32_t addr, const uint8_t *data, size_t len);
/* The sector holding addr, or -1 when addr is outside the flash. */
int flash_sector_of(uint32_t addr);
uint32_t flash_sector_size(unsigned sector);

#endif

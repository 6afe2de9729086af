/*
 * newlib's system calls for the benchmark firmware: stdout and stderr go
 * to the console UART, stdin reads it, the heap grows from the end of
 * .bss up to the stack's reserve (stm32f4.ld); there are no files.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>

#include "board.h"

extern char end, _estack, _min_stack;

void *_sbrk(ptrdiff_t incr)
{
	static char *brk = &end;
	char *old = brk;

	if (incr > (&_estack - (uintptr_t)&_min_stack) - brk) {
		errno = ENOMEM;
		return (void *)-1;
	}
	brk += incr;
	return old;
}

int _write(int fd, const char *buf, int len)
{
	if (fd != 1 && fd != 2) {
		errno = EBADF;
		return -1;
	}
	uart_write(buf, (size_t)len);
	return len;
}

int _read(int fd, char *buf, int len)
{
	int n = 0;

	if (fd != 0) {
		errno = EBADF;
		return -1;
	}
	while (n < len) {
		int c = uart_getc(0);

		buf[n++] = (char)c;
		if (c == '\n' || c == '\r')
			break;
	}
	return n;
}

int _close(int fd)
{
	(void)fd;
	errno = EBADF;
	return -1;
}

int _fstat(int fd, struct stat *st)
{
	(void)fd;
	st->st_mode = S_IFCHR;
	return 0;
}

int _isatty(int fd)
{
	return fd <= 2;
}

int _lseek(int fd, int off, int whence)
{
	(void)fd;
	(void)off;
	(void)whence;
	errno = ESPIPE;
	return -1;
}

int _kill(int pid, int sig)
{
	(void)pid;
	(void)sig;
	errno = EINVAL;
	return -1;
}

int _getpid(void)
{
	return 1;
}

void _exit(int status)
{
	(void)status;
	board_reset();
}

/* The version string the firmware reports, kept in .rodata. */
#include "board.h"

const char firmware_version[] = "blinky 1.2.0";

# uart64.S - the long-mode build of guests/real/uart.S: COM1 (0x3F8, polled)
# and the debug console 0xE9, from 64-bit code.
#include "../real/uart.S"

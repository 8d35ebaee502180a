/* top.h - --top: a live view of VM exits (per second, by reason and by
 * device, one line per vCPU) at the bottom of the terminal, like kvm_stat. */
#ifndef MINI_KVM_TOP_H
#define MINI_KVM_TOP_H

#include <stdbool.h>

struct guest;
struct console;
struct top;

/* Start the sampling thread when it can be shown: with --top (shown from
 * the start), or for a kernel on a terminal (hidden until Ctrl-A t). NULL
 * when there is nothing to start (or it could not start: reported). */
struct top *top_start(struct guest *g, int n, struct console *con, bool shown, bool kernel);
/* Stop the thread and give the terminal its whole screen back. */
void top_stop(struct top *t);

#endif

/* chat_threads.h - the rooms of one process whose chat runs on several
 * threads (chat --threads N without --redis): each thread has its own
 * loop and its own chat state, and every room event of one thread is
 * handed to the others through wsx_loop_post, so a room spans the
 * threads. Each thread frames an event once for its own members. Events of
 * two threads may reach a third in either order; with --redis every
 * thread reads the one stream instead, which gives one order. */
#ifndef CHAT_CHAT_THREADS_H
#define CHAT_CHAT_THREADS_H

#include "room.h"
#include "wsx_loop.h"

typedef struct chat_threads chat_threads;

/* Tie rooms[i], served by loops[i], together (n >= 2). Returns NULL when
 * out of memory. */
chat_threads *chat_threads_new(chat *const *rooms, wsx_loop *const *loops,
                               int n);
/* Untie and free, once no loop runs any more: events still on their way
 * are dropped. NULL: nothing. */
void chat_threads_free(chat_threads *t);

#endif

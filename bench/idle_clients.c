/* Opens N client connections (libpq, non-blocking, all logged in) and keeps them idle until its
 * standard input closes. Built and run by bench/idle_clients.sh; not a test.
 *
 *   idle_clients CONNINFO N [IN_FLIGHT]
 *
 * Prints "connected <ok> failed <n>" once every login has finished, then waits. */
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { CONNECTING, READY, FAILED };

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s CONNINFO N [IN_FLIGHT]\n", argv[0]);
    return 2;
  }
  const char* conninfo = argv[1];
  const int n = atoi(argv[2]);
  const int inFlight = argc > 3 ? atoi(argv[3]) : 200;
  PGconn** conns = calloc((size_t)n, sizeof *conns);
  int* state = calloc((size_t)n, sizeof *state);
  PostgresPollingStatusType* polls = calloc((size_t)n, sizeof *polls);
  struct pollfd* fds = calloc((size_t)n, sizeof *fds);
  int* which = calloc((size_t)n, sizeof *which);
  int started = 0, connecting = 0, ready = 0, failed = 0;
  while (ready + failed < n) {
    while (started < n && connecting < inFlight) {
      conns[started] = PQconnectStart(conninfo);
      polls[started] = PGRES_POLLING_WRITING;
      if (conns[started] == NULL || PQstatus(conns[started]) == CONNECTION_BAD) {
        if (failed < 5 && conns[started] != NULL)
          fprintf(stderr, "connect: %s", PQerrorMessage(conns[started]));
        state[started] = FAILED;
        ++failed;
      } else {
        state[started] = CONNECTING;
        ++connecting;
      }
      ++started;
    }
    int k = 0;
    for (int i = 0; i < started; ++i) {
      if (state[i] != CONNECTING) continue;
      fds[k].fd = PQsocket(conns[i]);
      fds[k].events = polls[i] == PGRES_POLLING_READING ? POLLIN : POLLOUT;
      fds[k].revents = 0;
      which[k++] = i;
    }
    if (k == 0) continue;
    if (poll(fds, (nfds_t)k, 100) <= 0) continue;
    for (int j = 0; j < k; ++j) {
      if (fds[j].revents == 0) continue;
      const int i = which[j];
      polls[i] = PQconnectPoll(conns[i]);
      if (polls[i] == PGRES_POLLING_OK) {
        state[i] = READY;
        --connecting;
        ++ready;
      } else if (polls[i] == PGRES_POLLING_FAILED) {
        if (failed < 5) fprintf(stderr, "login: %s", PQerrorMessage(conns[i]));
        state[i] = FAILED;
        --connecting;
        ++failed;
      }
    }
  }
  printf("connected %d failed %d\n", ready, failed);
  fflush(stdout);
  /* Idle until told to go (stdin closed or a line read). */
  char buf[64];
  while (read(0, buf, sizeof buf) > 0) break;
  for (int i = 0; i < n; ++i)
    if (conns[i] != NULL) PQfinish(conns[i]);
  return failed == 0 ? 0 : 1;
}

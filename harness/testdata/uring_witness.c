/*
 * An independent witness for closematrix's io_uring cells on Linux.
 *
 * Plays the catalogue's scenarios that have a pending recv, on its own
 * loopback sockets, through liburing (its own ring setup, submission and
 * bounded waits: io_uring_wait_cqe_timeout) from one C thread that lives
 * until the end, and prints what each pending recv and the peer's recv that
 * follows returned, as JSON:
 *
 *   {"v4/close/own-pending-recv": {"actor.pending-recv": {"class": "blocked",
 *     "errno": "", "n": 0}, "peer.recv": {...}}, ...}
 *
 * harness/witness_uring_linux_test.go builds it with gcc -luring and compares
 * it with the Go harness, which shares no code with it; both only follow the
 * scenario definitions (DESIGN.md section 3, "Event loops"):
 *
 *   - <family>/<action>/own-pending-recv: the actor has a recv pending when
 *     it closes, aborts (linger 0, then close), shuts down (wr, rd, rdwr), or
 *     cancels the recv and then closes (cancel-then-close). Steps:
 *     actor.pending-recv, then peer.recv.
 *   - <family>/<action>/peer-pending-recv: the peer has a recv pending when
 *     the actor closes or aborts; the recv is awaited right after the action
 *     (it is part of the reaction). Steps: peer.pending-recv, peer.recv.
 *
 * A recv not complete after BOUND_MS is "blocked" (the harness's default
 * bound). Usage: uring_witness ID...
 * Build: gcc -O2 -Wall -o uring_witness uring_witness.c -luring
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BOUND_MS 100
#define RECV_TAG 1
#define CANCEL_TAG 2

struct result {
	const char *class;
	char errno_name[32];
	int n;
};

/* The class vocabulary (schema/schema.go) for the errnos these scenarios
 * can meet; ECANCELED is "cancelled". */
static const char *class_of(int e)
{
	switch (e) {
	case ECONNRESET: return "reset";
	case ECONNABORTED: return "aborted";
	case EPIPE: return "broken-pipe";
	case ESHUTDOWN: return "shutdown";
	case ENOTCONN: return "not-connected";
	case EBADF: return "bad-descriptor";
	case ENOTSOCK: return "not-socket";
	case EINTR: return "interrupted";
	case ETIMEDOUT: return "timed-out";
	case EAGAIN: return "would-block";
	case ECANCELED: return "cancelled";
	case ENETUNREACH: case EHOSTUNREACH: return "unreachable";
	}
	return "other";
}

/* A result from a byte count or a negative errno. */
static struct result from_res(int res)
{
	struct result r = {0};
	if (res < 0) {
		r.class = class_of(-res);
		const char *name = strerrorname_np(-res); /* glibc 2.32 */
		snprintf(r.errno_name, sizeof r.errno_name, "%s", name ? name : "?");
	} else {
		r.class = res > 0 ? "data" : "eof";
		r.n = res;
	}
	return r;
}

static struct result blocked(void)
{
	struct result r = {.class = "blocked"};
	return r;
}

static void die(const char *what)
{
	fprintf(stderr, "uring_witness: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int)(ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* settle waits up to BOUND_MS until tcpi_unacked is 0 (tcp(7) TCP_INFO):
 * what was sent has been acknowledged. */
static void settle(int fd)
{
	int end = now_ms() + BOUND_MS;
	struct tcp_info ti;
	socklen_t len = sizeof ti;
	while (now_ms() < end) {
		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 || ti.tcpi_unacked == 0)
			return;
		usleep(100);
	}
}

/* peer_recv is a recv bounded by BOUND_MS: poll(2) for readability, then
 * recv(2). */
static struct result peer_recv(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char buf[65536];
	int n = poll(&p, 1, BOUND_MS);
	if (n < 0)
		die("poll");
	if (n == 0)
		return blocked();
	n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN)
		return blocked();
	return from_res(n < 0 ? -errno : n);
}

/* The pending recv. */
struct pending {
	struct io_uring ring;
	char buf[64];
	int done;
	int res;
};

static void submit_recv(struct pending *p, int fd)
{
	int err = io_uring_queue_init(4, &p->ring, 0);
	if (err < 0) {
		fprintf(stderr, "uring_witness: io_uring_queue_init: %s\n", strerror(-err));
		exit(3); /* io_uring refused here */
	}
	struct io_uring_sqe *sqe = io_uring_get_sqe(&p->ring);
	io_uring_prep_recv(sqe, fd, p->buf, sizeof p->buf, 0);
	io_uring_sqe_set_data64(sqe, RECV_TAG);
	if ((err = io_uring_submit(&p->ring)) != 1) {
		fprintf(stderr, "uring_witness: io_uring_submit: %d\n", err);
		exit(1);
	}
	p->done = 0;
}

static void submit_cancel(struct pending *p)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&p->ring);
	io_uring_prep_cancel64(sqe, RECV_TAG, 0);
	io_uring_sqe_set_data64(sqe, CANCEL_TAG);
	if (io_uring_submit(&p->ring) != 1) {
		fprintf(stderr, "uring_witness: io_uring_submit (cancel) failed\n");
		exit(1);
	}
}

/* wait_recv waits up to ms for the recv's CQE, dropping the cancel's. */
static struct result wait_recv(struct pending *p, int ms)
{
	int end = now_ms() + ms;
	while (!p->done) {
		int left = end - now_ms();
		if (left <= 0)
			return blocked();
		struct __kernel_timespec ts = {.tv_sec = left / 1000, .tv_nsec = (left % 1000) * 1000000L};
		struct io_uring_cqe *cqe;
		int err = io_uring_wait_cqe_timeout(&p->ring, &cqe, &ts);
		if (err == -ETIME || err == -EINTR)
			continue;
		if (err < 0) {
			fprintf(stderr, "uring_witness: io_uring_wait_cqe_timeout: %s\n", strerror(-err));
			exit(1);
		}
		if (io_uring_cqe_get_data64(cqe) == RECV_TAG) {
			p->done = 1;
			p->res = cqe->res;
		}
		io_uring_cqe_seen(&p->ring, cqe);
	}
	return from_res(p->res);
}

/* finish cancels the recv if it is still pending, reaps it, and frees the
 * ring. */
static void finish(struct pending *p)
{
	if (!p->done) {
		submit_cancel(p);
		wait_recv(p, 1000);
		if (!p->done) {
			fprintf(stderr, "uring_witness: recv not reaped 1 s after its cancel\n");
			exit(1);
		}
	}
	io_uring_queue_exit(&p->ring);
}

/* pair connects actor to peer over loopback; 0, or -1 when the family
 * cannot be used here. */
static int pair(const char *family, int *actor, int *peer)
{
	int v6 = strcmp(family, "v6") == 0;
	struct sockaddr_storage ss = {0};
	socklen_t len;
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		len = sizeof *a;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof *a;
	}
	int ln = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ln < 0 || bind(ln, (struct sockaddr *)&ss, len) != 0) {
		if (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL) {
			if (ln >= 0)
				close(ln);
			return -1;
		}
		die("socket/bind");
	}
	if (listen(ln, 1) != 0 || getsockname(ln, (struct sockaddr *)&ss, &len) != 0)
		die("listen");
	*actor = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*actor < 0 || connect(*actor, (struct sockaddr *)&ss, len) != 0)
		die("connect");
	*peer = accept4(ln, NULL, NULL, SOCK_CLOEXEC);
	if (*peer < 0)
		die("accept");
	close(ln);
	return 0;
}

static void linger0(int fd)
{
	struct linger l = {.l_onoff = 1, .l_linger = 0};
	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l) != 0)
		die("setsockopt SO_LINGER");
}

static void print_result(const char *name, struct result r, int last)
{
	printf("  \"%s\": {\"class\": \"%s\", \"errno\": \"%s\", \"n\": %d}%s\n", name, r.class, r.errno_name, r.n,
	       last ? "" : ",");
}

/* play plays one scenario and prints its object (without a trailing comma). */
static void play(const char *id)
{
	char family[8], action[32], cond[64];
	if (sscanf(id, "%7[^/]/%31[^/]/%63s", family, action, cond) != 3) {
		fprintf(stderr, "uring_witness: bad ID %s\n", id);
		exit(2);
	}
	int own = strcmp(cond, "own-pending-recv") == 0;
	if (!own && strcmp(cond, "peer-pending-recv") != 0) {
		fprintf(stderr, "uring_witness: %s: not a pending-recv scenario\n", id);
		exit(2);
	}
	int actor, peer;
	if (pair(family, &actor, &peer) != 0) {
		printf(" \"%s\": {\"skipped\": \"%s cannot be used on loopback here\"}", id, family);
		return;
	}
	struct pending p;
	submit_recv(&p, own ? actor : peer);
	int closed = 0;
	struct result pend, rcv;
	if (strcmp(action, "close") == 0 || strcmp(action, "abort") == 0 || strcmp(action, "cancel-then-close") == 0) {
		if (strcmp(action, "abort") == 0)
			linger0(actor);
		if (strcmp(action, "cancel-then-close") == 0)
			submit_cancel(&p);
		close(actor);
		closed = 1;
	} else {
		int how = strcmp(action, "shutdown-rd") == 0   ? SHUT_RD
			  : strcmp(action, "shutdown-wr") == 0 ? SHUT_WR
							       : SHUT_RDWR;
		if (shutdown(actor, how) != 0)
			die("shutdown");
	}
	if (!own)
		pend = wait_recv(&p, BOUND_MS); /* part of the reaction */
	settle(peer);
	if (!closed)
		settle(actor);
	if (own)
		pend = wait_recv(&p, BOUND_MS);
	rcv = peer_recv(peer);
	printf(" \"%s\": {\n", id);
	print_result(own ? "actor.pending-recv" : "peer.pending-recv", pend, 0);
	print_result("peer.recv", rcv, 1);
	printf(" }");
	finish(&p);
	linger0(peer);
	close(peer);
	if (!closed) {
		linger0(actor);
		close(actor);
	}
}

int main(int argc, char **argv)
{
	printf("{\n");
	for (int i = 1; i < argc; i++) {
		play(argv[i]);
		printf("%s\n", i + 1 < argc ? "," : "");
		fflush(stdout);
	}
	printf("}\n");
	return 0;
}

#include "sconn.h"

#include "fork.h"
#include "real.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

uint64_t shim_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* "1.2.3.4:5" / "[::1]:5" and the bare address (for IP SAN checks). */
static void format_addr(const struct sockaddr_storage *ss, char *out, size_t len, char *ip,
			size_t iplen)
{
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;
		inet_ntop(AF_INET, &in->sin_addr, a, sizeof a);
		port = ntohs(in->sin_port);
		snprintf(out, len, "%s:%u", a, port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], a, sizeof a);
		else
			inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof a);
		port = ntohs(in6->sin6_port);
		snprintf(out, len, strchr(a, ':') ? "[%s]:%u" : "%s:%u", a, port);
	} else {
		snprintf(out, len, "?");
	}
	if (ip)
		snprintf(ip, iplen, "%s", a);
}

sconn *sconn_new(shim_rule *rule, int fd, bool client, const struct sockaddr *peer)
{
	sconn *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	char peer_ip[INET6_ADDRSTRLEN] = "";
	memset(&ss, 0, sizeof ss);
	if (peer)
		memcpy(&ss, peer,
		       peer->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						   : sizeof(struct sockaddr_in));
	if (peer || getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
		format_addr(&ss, s->peer, sizeof s->peer, peer_ip, sizeof peer_ip);
	sl = sizeof ss;
	memset(&ss, 0, sizeof ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		format_addr(&ss, s->local, sizeof s->local, NULL, 0);
	int fl = REAL(fcntl)(fd, F_GETFL);
	s->nonblock = fl >= 0 && (fl & O_NONBLOCK);
	s->rule = rule;
	s->client = client;
	s->close_fd = -1;
	/* The rule's configuration may be rebuilt here (its files changed):
	 * the handshake clock starts after that. */
	tls_config *cfg = shim_rule_config(rule, shim_now_us(), &s->cfg_gen);
	s->started_us = shim_now_us();
	s->deadline_us = s->started_us + (uint64_t)rule->handshake_timeout * 1000000u;
	s->tls = tls_conn_new(cfg, client && rule->server_name[0] ? rule->server_name : NULL,
			      client ? peer_ip : NULL);
	tls_config_unref(cfg); /* the connection holds its own reference */
	if (!s->tls) {
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->rd, NULL);
	pthread_mutex_init(&s->wr, NULL);
	if (client) {
		tls_session *sess = shim_rule_session_get(rule, s->peer);
		if (sess) {
			tls_conn_set_session(s->tls, sess);
			tls_session_unref(sess);
		}
	}
	return s;
}

void sconn_ref(sconn *s)
{
	__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
}

void sconn_unref(sconn *s)
{
	if (!s || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	shim_fork_drop(s);
	tls_conn_free(s->tls);
	pthread_mutex_destroy(&s->rd);
	pthread_mutex_destroy(&s->wr);
	free(s);
}

/*
 * keys.c: the table of policy keys (INTERFACE.md "The policy file"): their
 * INI names and where each may appear.
 */
#include <string.h>

#include "policy_internal.h"

static const struct {
	const char *name;
	unsigned scope;
} keys[TLSP_K_COUNT] = {
	[TLSP_K_LOG] = {"log", TLSP_SCOPE_GLOBAL},
	[TLSP_K_LOG_FILE] = {"log_file", TLSP_SCOPE_GLOBAL},
	[TLSP_K_KEYLOG] = {"keylog", TLSP_SCOPE_GLOBAL},
	[TLSP_K_HANDSHAKE_TIMEOUT] = {"handshake_timeout", TLSP_SCOPE_GLOBAL | TLSP_SCOPE_RULE},
	[TLSP_K_ROLE] = {"role", TLSP_SCOPE_RULE},
	[TLSP_K_PORT] = {"port", TLSP_SCOPE_RULE},
	[TLSP_K_HOSTS] = {"hosts", TLSP_SCOPE_CLIENT},
	[TLSP_K_CERT] = {"cert", TLSP_SCOPE_RULE},
	[TLSP_K_KEY] = {"key", TLSP_SCOPE_RULE},
	[TLSP_K_CA] = {"ca", TLSP_SCOPE_RULE},
	/* verify_peer = optional is server-only; build.c checks the value. */
	[TLSP_K_VERIFY_PEER] = {"verify_peer", TLSP_SCOPE_RULE},
	[TLSP_K_PLAINTEXT] = {"plaintext", TLSP_SCOPE_SERVER},
	[TLSP_K_SESSION_TICKETS] = {"session_tickets", TLSP_SCOPE_SERVER},
	[TLSP_K_SERVER_NAME] = {"server_name", TLSP_SCOPE_CLIENT},
	[TLSP_K_PIN] = {"pin", TLSP_SCOPE_CLIENT},
	[TLSP_K_CIPHERS] = {"ciphers", TLSP_SCOPE_RULE},
	[TLSP_K_GROUPS] = {"groups", TLSP_SCOPE_RULE},
	[TLSP_K_LEGACY_PEERS] = {"legacy_peers", TLSP_SCOPE_RULE},
	[TLSP_K_MIN_VERSION] = {"min_version", TLSP_SCOPE_RULE},
	[TLSP_K_MAX_VERSION] = {"max_version", TLSP_SCOPE_RULE},
	[TLSP_K_ALPN] = {"alpn", TLSP_SCOPE_RULE},
};

const char *tlsp_key_name(enum tlsp_key k)
{
	if ((unsigned)k >= TLSP_K_COUNT)
		return "?";
	return keys[k].name;
}

int tlsp_key_lookup(const char *name)
{
	for (int k = 0; k < TLSP_K_COUNT; k++)
		if (strcmp(keys[k].name, name) == 0)
			return k;
	return -1;
}

unsigned tlsp_key_scope(enum tlsp_key k)
{
	if ((unsigned)k >= TLSP_K_COUNT)
		return 0;
	return keys[k].scope;
}

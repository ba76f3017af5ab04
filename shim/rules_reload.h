/*
 * rules_reload.h: a rule's certificate, key and CA files are watched, and
 * its engine configuration is rebuilt when they change on disk
 * (rules_reload.c); connections already made keep the configuration they
 * hold.
 */
#ifndef TLSHIM_SHIM_RULES_RELOAD_H
#define TLSHIM_SHIM_RULES_RELOAD_H

#include <stdbool.h>
#include <sys/stat.h>

#include "rules.h"

/* shim_rule_config(r, now_us, gen): a new reference to ${r}'s current
 * configuration, for a connection being made at monotonic ${now_us}; its
 * generation in ${*gen}. At most once a second per rule (the first caller
 * past the mark; the others go on at once) it also compares the rule's
 * cert, key and CA files with those the configuration was built from and,
 * when one changed, rebuilds the configuration from the files and swaps it
 * in if it is valid (logged at warn); connections already made keep the
 * configuration they hold. An invalid rebuild (a cert replaced before its
 * key) keeps the current configuration, is warned about once per state of
 * the files, and is tried again at the next check. errno is kept. */
tls_config *shim_rule_config(shim_rule *r, uint64_t now_us, unsigned *gen);

/* shim_fileid_of(id, st): the identity of the file ${st} describes.
 * shim_fileid_same(a, b): the two identities are of the same file in the
 * same state (both absent counts as the same). */
void shim_fileid_of(shim_fileid *id, const struct stat *st);
bool shim_fileid_same(const shim_fileid *a, const shim_fileid *b);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Identity files: the text of vms/PID-FD/identity, parsed by the module's
 * own parser (pcm_identity_parse); what is wrong is said with the file,
 * the line and the token.
 */
#ifndef PCMCTL_IDENTITY_H
#define PCMCTL_IDENTITY_H

#include "kv.h"
#include "pcm_model.h"

/*
 * Read and parse an identity file ("-": standard input).  0, or EXIT_OP
 * after the message.  *textp, if given, gets the text (the caller frees).
 */
int identity_load(const char *path, struct pcm_kvm_identity *id, char **textp);
/* The same from a text already read. */
int identity_parse(const struct kv_text *t, struct pcm_kvm_identity *id);

#endif /* PCMCTL_IDENTITY_H */

/* The token key file: checking, loading into protected memory, creating.
 * Errors come back as one line naming the file, never printed. */
#ifndef PRIVIDENT_KEYFILE_H
#define PRIVIDENT_KEYFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include "token.h"

#define DEFAULT_TOKEN_KEY_PATH "/etc/privident/token.key"

/* Why st (of the file at path) may not hold a key, or NULL if it may: it
 * must be a regular file, owned by root or by owner (the user that loads
 * it), with no permission at all for group or others (a key others could
 * read unmasks every token; one they could write they could choose), and
 * exactly TOKEN_KEY_BYTES long. Pure. */
const char *keyfile_refusal(const struct stat *st, uid_t owner, char *why,
                            size_t size);

/* Opens path (as the caller, following symbolic links: the checks apply to
 * the file itself), checks it, and reads the key into memory from
 * sodium_malloc: locked (never swapped), left out of core dumps, guarded,
 * and read-only once loaded. Returns the key, or NULL with "PATH: reason"
 * in err. sodium_init() must have run. */
uint8_t *keyfile_load(const char *path, char *err, size_t errsz);

/* Wipes and frees a key from keyfile_load (NULL: nothing). */
void keyfile_free(uint8_t *key);

/* Zeroes a key from keyfile_load in place, leaving it mapped: for a
 * process whose sandbox forbids munlock, just before it exits. */
void keyfile_wipe(uint8_t *key);

/* Locks this process's copy of an inherited key again: memory locks are
 * not inherited across fork. Returns 0 or -1 (errno). */
int keyfile_relock(uint8_t *key);

/* Writes a new random key to path, mode 0600. Refuses an existing path
 * unless force, which replaces it atomically (a temporary file in the same
 * directory, then rename). Returns 0, or -1 with a message. */
int keyfile_create(const char *path, bool force, char *err, size_t errsz);

#endif

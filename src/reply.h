/* Formatting RFC 1413 replies (pure). */
#ifndef PRIVIDENT_REPLY_H
#define PRIVIDENT_REPLY_H

#include <stddef.h>

enum reply_error {
	REPLY_INVALID_PORT,
	REPLY_NO_USER,
	REPLY_HIDDEN_USER,
	REPLY_UNKNOWN_ERROR,
};

/* "INVALID-PORT" etc. */
const char *reply_error_name(enum reply_error e);

/* Writes "<sp> , <cp> : ERROR : <name>\r\n" into out (NUL terminated) and
 * returns its length without the NUL, or -1 if it does not fit. */
int reply_format_error(char *out, size_t size, unsigned server_port,
                       unsigned client_port, enum reply_error e);

/* Writes "<sp> , <cp> : USERID : <opsys>[,UTF-8] : <userid>\r\n". opsys is
 * "UNIX" or "OTHER". A user id that is empty, longer than USERID_MAX, holds
 * NUL, CR or LF, or is not valid UTF-8 is refused (-1); ",UTF-8" is added
 * when it holds any non-ASCII octet. Returns the length or -1.
 * Also refused: a user id holding any control character (below 0x20, DEL,
 * or U+0080..U+009F), since it could corrupt the client's logs or act on a
 * terminal; leading and trailing white space is kept as it is. An opsys
 * that is empty, longer than OPSYS_MAX or holds anything but [A-Za-z0-9-]
 * is refused too. */
int reply_format_userid(char *out, size_t size, unsigned server_port,
                        unsigned client_port, const char *opsys,
                        const char *userid, size_t userid_len);

#endif

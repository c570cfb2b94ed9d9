/* Formatting RFC 1413 replies. Everything written here reaches a remote
 * client and often its logs and terminals, so a user id is checked before
 * it is sent, not trusted because it came from the password database. */
#include "reply.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "limits.h"

static const char *const error_names[] = {
	[REPLY_INVALID_PORT] = "INVALID-PORT",
	[REPLY_NO_USER] = "NO-USER",
	[REPLY_HIDDEN_USER] = "HIDDEN-USER",
	[REPLY_UNKNOWN_ERROR] = "UNKNOWN-ERROR",
};

const char *reply_error_name(enum reply_error e)
{
	/* A value outside the enum is a bug; say the least we can. */
	if ((unsigned)e >= sizeof error_names / sizeof error_names[0])
		return error_names[REPLY_UNKNOWN_ERROR];
	return error_names[e];
}

/* snprintf's result turned into ours: the length, or -1 if truncated. */
static int fitted(int n, size_t size)
{
	if (n < 0 || (size_t)n >= size)
		return -1;
	return n;
}

int reply_format_error(char *out, size_t size, unsigned server_port,
                       unsigned client_port, enum reply_error e)
{
	int n = snprintf(out, size, "%u , %u : ERROR : %s\r\n", server_port,
	                 client_port, reply_error_name(e));
	return fitted(n, size);
}

/* C0 controls, DEL and C1 controls: a terminal may act on any of them
 * (C1 CSI, U+009B, included), and CR, LF and NUL would break the line. */
static bool is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/* The number of octets in the UTF-8 sequence that starts with lead, or 0
 * if lead cannot start one. */
static size_t utf8_length(uint8_t lead)
{
	if (lead < 0x80)
		return 1;
	if (lead >= 0xc2 && lead <= 0xdf)
		return 2;
	if (lead >= 0xe0 && lead <= 0xef)
		return 3;
	if (lead >= 0xf0 && lead <= 0xf4)
		return 4;
	return 0; /* continuation octet, overlong lead (C0, C1) or > U+13FFFF */
}

/* The smallest code point each sequence length may encode: anything below
 * is an overlong form. */
static const uint32_t utf8_min[5] = { 0, 0, 0x80, 0x800, 0x10000 };

/* Decodes one character from s (n octets available). Returns its length,
 * or 0 for a truncated, overlong or out-of-range sequence, a surrogate, or a
 * control character. */
static size_t utf8_char(const uint8_t *s, size_t n)
{
	size_t len = utf8_length(s[0]);
	uint32_t cp;

	if (len == 0 || len > n)
		return 0;
	cp = len == 1 ? s[0] : s[0] & (0x7fu >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if (cp < utf8_min[len] || cp > 0x10ffff)
		return 0;
	if (cp >= 0xd800 && cp <= 0xdfff)
		return 0;
	return is_control(cp) ? 0 : len;
}

/* A user id we are willing to send: 1..USERID_MAX octets of UTF-8 with no
 * control character. Sets *ascii when every octet is below 0x80. */
static bool userid_ok(const char *userid, size_t len, bool *ascii)
{
	const uint8_t *s = (const uint8_t *)userid;

	if (userid == NULL || len == 0 || len > USERID_MAX)
		return false;
	*ascii = true;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_char(s + i, len - i);

		if (n == 0)
			return false;
		if (n > 1)
			*ascii = false;
		i += n;
	}
	return true;
}

static bool is_opsys_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-';
}

/* "UNIX", "OTHER" or another name of letters, digits and '-': nothing that
 * could be taken for a separator (',' ':') or corrupt the line. */
static bool opsys_ok(const char *opsys)
{
	size_t len;

	if (opsys == NULL)
		return false;
	len = strnlen(opsys, OPSYS_MAX + 1);
	if (len == 0 || len > OPSYS_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_opsys_char(opsys[i]))
			return false;
	return true;
}

int reply_format_userid(char *out, size_t size, unsigned server_port,
                        unsigned client_port, const char *opsys,
                        const char *userid, size_t userid_len)
{
	bool ascii;
	int n;

	if (!opsys_ok(opsys) || !userid_ok(userid, userid_len, &ascii))
		return -1;
	/* RFC 1413: a user id that is not US-ASCII names its character set. */
	n = snprintf(out, size, "%u , %u : USERID : %s%s : %.*s\r\n",
	             server_port, client_port, opsys, ascii ? "" : ",UTF-8",
	             (int)userid_len, userid);
	return fitted(n, size);
}

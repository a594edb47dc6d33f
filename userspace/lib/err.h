/* One error space for the whole project.
 *
 * 0 is success; failure is a negative code. Negative errno values pass through
 * unchanged; project codes start at -1000. glued_strerror() turns either into
 * text. Functions that can fail return int and are marked GLUED_MUST_CHECK.
 */
#ifndef GLUED_LIB_ERR_H
#define GLUED_LIB_ERR_H

#define GLUED_MUST_CHECK __attribute__((warn_unused_result))
#define GLUED_MUST_CHECK_PTR __attribute__((warn_unused_result, malloc))
/* A parameter a callback's signature imposes but this callback does not
 * need (loop_op_fn's flags, libmicrohttpd's upload arguments, ...). A
 * parameter no caller needs is removed instead. */
#define GLUED_UNUSED __attribute__((unused))

enum glued_err {
	GLUED_EMALF = -1000,	 /* malformed input */
	GLUED_ETRUNC = -1001,	 /* input ends before the structure does */
	GLUED_ESPACE = -1002,	 /* output buffer too small */
	GLUED_EFORMERR = -1003,	 /* DNS message is not a valid query */
	GLUED_ENOTIMP = -1004,	 /* valid, but not something we implement */
	GLUED_EAUTH = -1005,	 /* authentication / decryption failed */
	GLUED_ECONFIG = -1006,	 /* invalid configuration value */
	GLUED_ELIMIT = -1007,	 /* a configured bound would be exceeded */
	GLUED_ENOTFOUND = -1008, /* no such name / record / entry */
	GLUED_EPROTO = -1009,	 /* peer broke the protocol */
	GLUED_EREPLAY = -1010,	 /* datagram already seen */
	GLUED_EBADVERS = -1011,	 /* unsupported version */
};

/* Text for any code this project returns: project codes and -errno. */
const char *glued_strerror(int err);

#endif

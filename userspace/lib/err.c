/* Text for the project's error space; see err.h. */
#include <string.h>

#include "lib/err.h"

const char *glued_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case GLUED_EMALF:
		return "malformed input";
	case GLUED_ETRUNC:
		return "truncated input";
	case GLUED_ESPACE:
		return "output buffer too small";
	case GLUED_EFORMERR:
		return "malformed DNS query";
	case GLUED_ENOTIMP:
		return "not implemented";
	case GLUED_EAUTH:
		return "authentication failed";
	case GLUED_ECONFIG:
		return "invalid configuration";
	case GLUED_ELIMIT:
		return "limit exceeded";
	case GLUED_ENOTFOUND:
		return "not found";
	case GLUED_EPROTO:
		return "protocol violation";
	case GLUED_EREPLAY:
		return "replayed datagram";
	case GLUED_EBADVERS:
		return "unsupported version";
	}
	if (err < 0 && err > -1000)
		return strerror(-err);
	return "unknown error";
}

# e2e harness, DNS queries and what they returned. dq runs dig from the client
# namespace against a host's glued and keeps the full output in $DQ (also
# echoed, so a failing test shows every reply it saw); the dq_* functions read
# the header, flags, sections and timing out of $DQ. dns_is/expect_dns poll a
# name until the answer is what the test expects (records take a moment to
# arrive from Docker's event stream).

# Whom dq asks: DQ_HOST's glued on its LAN address, unless @server is given.
DQ_HOST=${DQ_HOST:-h1}

# dq [dig args...]: one query, 2 s timeout, one try (dig's retries would hide
# a lost reply).
dq() {
	local server=("@$(host_var "$DQ_HOST" ip)") a
	for a in "$@"; do [[ $a == @* ]] && server=(); done
	DQ_RC=0
	DQ=$(cx dig "${server[@]}" +time=2 +tries=1 "$@" 2>&1) || DQ_RC=$?
	printf '$ dig %s\n%s\n' "$*" "$DQ"
	return 0
}

# dqh HOST [dig args...]: like dq but from inside HOST's own namespaces.
dqh() {
	local h=$1
	shift
	DQ_RC=0
	DQ=$(hx "$h" dig +time=2 +tries=1 "$@" 2>&1) || DQ_RC=$?
	printf '$ (on %s) dig %s\n%s\n' "$h" "$*" "$DQ"
	return 0
}

dq_rcode() { # NOERROR, NXDOMAIN, ... or "none" when no reply came
	local r
	r=$(sed -n 's/.*status: \([A-Z]*\),.*/\1/p' <<<"$DQ" | tail -n 1)
	echo "${r:-none}"
}

dq_flags() { # e.g. "qr aa rd ra"
	sed -n 's/^;; flags: \([a-z ]*\);.*/\1/p' <<<"$DQ" | tail -n 1
}

dq_has_flag() {
	[[ " $(dq_flags) " == *" $1 "* ]]
}

# Answer section records as "name ttl class type rdata" lines.
dq_answer_section() {
	awk '/^;; ANSWER SECTION:/{on=1; next} on && /^$/{on=0} on && !/^;/' <<<"$DQ"
}

dq_answers() { # TYPE: rdata of the answer records of TYPE, in reply order
	dq_answer_section | awk -v t="$1" '$4 == t {
		$1 = $2 = $3 = $4 = ""; sub(/^ +/, ""); print }'
}

dq_answer_count() { # header's ANSWER count
	sed -n 's/.* ANSWER: \([0-9]*\),.*/\1/p' <<<"$DQ" | tail -n 1
}

dq_ttls() {
	dq_answer_section | awk '{print $2}' | sort -u
}

dq_question() { # the question name exactly as the reply spelled it
	awk '/^;; QUESTION SECTION:/{getline; sub(/^;/, ""); print $1; exit}' <<<"$DQ"
}

dq_answer_owners() {
	dq_answer_section | awk '{print $1}' | sort -u
}

dq_has_opt() {
	grep -q '^;; OPT PSEUDOSECTION:' <<<"$DQ"
}

dq_msg_size() { # ";; MSG SIZE  rcvd: N"
	sed -n 's/^;; MSG SIZE  rcvd: \([0-9]*\).*/\1/p' <<<"$DQ" | tail -n 1
}

# dns_is TYPE NAME EXPECTED [dig args]: query once, compare "RCODE rdata..."
# (rdata sorted) with EXPECTED, e.g. "NOERROR 10.213.1.2" or "NXDOMAIN".
dns_is() {
	local type=$1 name=$2 want=$3
	shift 3
	dq "$@" "$name" "$type" >/dev/null
	DNS_GOT=$(dq_rcode)$(dq_answers "$type" | sort | sed 's/^/ /' | tr -d '\n')
	[ "$DNS_GOT" = "$want" ]
}

# expect_dns TIMEOUT_S TYPE NAME EXPECTED [dig args]: poll until it holds.
expect_dns() {
	local t=$1
	shift
	wait_until "$t" dns_is "$@" && return 0
	printf 'FAIL: %s %s: expected "%s" within %ss, last answer "%s"\n%s\n' \
		"$2" "$1" "$3" "$t" "$DNS_GOT" "$DQ" >&2
	return 1
}

# Raw datagrams, for what dig will not send. Packets are written as hex.
# udp_raw HEX [SERVER]: send one datagram from the client namespace and print
# the reply as hex, or nothing if none came within 1 s.
udp_raw() {
	local server=${2:-$(host_var "$DQ_HOST" ip)}
	cx bash -c 'exec 5<>"/dev/udp/$2/53" || exit 1
		printf "$1" >&5
		timeout 1 dd bs=65535 count=1 <&5 2>/dev/null | od -An -v -tx1' \
		_ "$(sed 's/../\\x&/g' <<<"$1")" "$server" | tr -d ' \n'
}

# dns_query_hex ID FLAGS NAME TYPE [ARCOUNT_OPT]: a query as hex; FLAGS is the
# 16-bit flags word in hex (0100 = RD); with a fourth argument an EDNS OPT
# (buffer 1232) is appended.
dns_query_hex() {
	local id=$1 flags=$2 name=$3 type=$4 opt=${5:-} label hex
	hex=$id$flags"0001000000000000"
	[ -n "$opt" ] && hex=${hex%0000}0001
	IFS=. read -ra labels <<<"$name"
	for label in "${labels[@]}"; do
		hex+=$(printf '%02x' ${#label})$(printf '%s' "$label" | od -An -v -tx1 | tr -d ' \n')
	done
	hex+=00$(printf '%04x' "$type")0001
	[ -n "$opt" ] && hex+=00002904d0000000000000
	echo "$hex"
}

# Fields of a reply given as hex.
reply_id() { echo "${1:0:4}"; }
reply_rcode() { echo $((16#${1:7:1})); } # low 4 bits of the flags word
reply_flags() { echo "${1:4:4}"; }

/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Unit tests of the pbsd.conf parser (pbsd_conf.c): every key, bad values,
 * line and list limits, the sorted keyword table.  Runs as any user.
 */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "harness.h"
#include "pbsd_conf.h"

const char	*pbsd_conf_key_name(size_t);

static int
parse(struct pbsd_conf *c, const char *text, size_t *line_r)
{
	const char	*errstr = NULL;
	size_t		 line = 0;
	int		 rv;

	pbsd_conf_defaults(c);
	rv = pbsd_conf_parse(c, (const uint8_t *)text, strlen(text), &errstr,
	    &line);
	if (line_r != NULL) {
		*line_r = line;
	}
	if (rv == -1 && errstr == NULL) {
		return -2;
	}
	return rv;
}

static void
test_full(void)
{
	struct pbsd_conf	c;
	const char		*errstr;

	T_EQ_INT(parse(&c,
	    "# comment\n"
	    "\n"
	    "socket_path = /run/x/pbsd.sock\r\n"
	    "socket_mode=0620\n"
	    "  socket_group = mail  \n"
	    "control_path = /run/x/ctl\n"
	    "state_file = /var/lib/x/state\n"
	    "user = _pbsd\n"
	    "allow_uid = 0, bailey 101\n"
	    "allow_gid = mail\n"
	    "expire = 600\n"
	    "flush_interval = 0\n"
	    "ipv6_prefix = 64\n"
	    "max_entries = 5\n"
	    "output = hash /var/lib/x/relay.db\n"
	    "output_nul = both\n"
	    "output_keys = postfix sendmail\n"
	    "output_value = expiry\n"
	    "output = text /var/lib/x/relay.txt\n"
	    "output = btree   /var/lib/x/b.db", NULL), 0);
	T_EQ_STR(c.pc_socket, "/run/x/pbsd.sock");
	T_EQ_INT(c.pc_socket_mode, 0620);
	T_EQ_STR(c.pc_socket_group, "mail");
	T_EQ_STR(c.pc_control, "/run/x/ctl");
	T_EQ_STR(c.pc_state, "/var/lib/x/state");
	T_EQ_STR(c.pc_user, "_pbsd");
	T_EQ_INT(c.pc_nallow_uid, 3);
	T_EQ_STR(c.pc_allow_uid[1], "bailey");
	T_EQ_INT(c.pc_nallow_gid, 1);
	T_EQ_INT(c.pc_expire, 600);
	T_EQ_INT(c.pc_flush_interval, 0);
	T_EQ_INT(c.pc_ipv6_prefix, 64);
	T_EQ_INT(c.pc_max_entries, 5);
	T_EQ_INT(c.pc_noutputs, 3);
	T_EQ_INT(c.pc_outputs[0].po_type, PBSD_OUT_HASH);
	T_EQ_INT(c.pc_outputs[0].po_nul, PBSD_NUL_BOTH);
	T_EQ_INT(c.pc_outputs[0].po_keys,
	    PBSD_KEYS_POSTFIX | PBSD_KEYS_SENDMAIL);
	T_EQ_INT(c.pc_outputs[0].po_value, PBSD_VAL_EXPIRY);
	T_EQ_INT(c.pc_outputs[1].po_type, PBSD_OUT_TEXT);
	T_EQ_INT(c.pc_outputs[1].po_keys, PBSD_KEYS_POSTFIX);
	T_EQ_INT(c.pc_outputs[1].po_nul, PBSD_NUL_NO);
	T_EQ_INT(c.pc_outputs[2].po_type, PBSD_OUT_BTREE);
	T_EQ_STR(c.pc_outputs[2].po_path, "/var/lib/x/b.db");
	T_EQ_INT(pbsd_conf_check(&c, &errstr), 0);
}

static void
test_defaults(void)
{
	struct pbsd_conf	c;
	const char		*errstr;

	T_EQ_INT(parse(&c, "", NULL), 0);
	T_EQ_STR(c.pc_socket, PBSD_DEF_SOCKET);
	T_EQ_INT(c.pc_expire, PBSD_DEF_EXPIRE);
	T_EQ_INT(c.pc_flush_interval, 1);
	T_EQ_INT(c.pc_ipv6_prefix, 128);
	T_EQ_INT(c.pc_noutputs, 0);
	/* No allowed sender is a configuration error. */
	T_EQ_INT(pbsd_conf_check(&c, &errstr), -1);
	T_EQ_INT(parse(&c, "allow_uid=0\ncontrol_path=" PBSD_DEF_SOCKET "\n",
	    NULL), 0);
	T_EQ_INT(pbsd_conf_check(&c, &errstr), -1);
}

static void
test_errors(void)
{
	struct pbsd_conf	c;
	size_t			line;
	static const char	*bad[] = {
		"nokey\n", "unknown = 1\n", "expire = 0\n", "expire = 604801\n",
		"expire = -1\n", "expire = 1x\n", "expire =\n",
		"socket_mode = 0800\n", "socket_mode = 01777\n",
		"socket_mode = 12345\n", "ipv6_prefix = 96\n",
		"socket_path = relative\n", "state_file = \n",
		"output = hash\n", "output = cdb /x\n", "output = hash rel\n",
		"output_nul = yes\n", "output = text /x\noutput_nul = maybe\n",
		"output = text /x\noutput_value = ok\n",
		"output = text /x\noutput_keys = exim\n",
		"output = text /x\noutput_keys = ,\n",
		"max_entries = 0\n", "max_entries = 10000001\n",
		"flush_interval = 3601\n", "user = a\tb\n",
		"allow_uid = \n",
	};
	size_t			i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(&c, bad[i], &line) != -1) {
			fprintf(stderr, "  accepted: %s", bad[i]);
			harness_failures++;
		}
	}
	/* Line numbers are reported. */
	T_EQ_INT(parse(&c, "expire = 5\n\n# x\nbogus = 1\n", &line), -1);
	T_EQ_INT(line, 4);
	/* Limits: exactly at and one past. */
	T_EQ_INT(parse(&c, "expire = 604800\nexpire = 1\n", NULL), 0);
	T_EQ_INT(parse(&c, "flush_interval = 3600\n", NULL), 0);
	T_EQ_INT(parse(&c, "max_entries = 10000000\n", NULL), 0);
	T_EQ_INT(parse(&c, "socket_mode = 0777\nsocket_mode=0\n", NULL), 0);
}

static void
test_line_and_list_limits(void)
{
	struct pbsd_conf	c;
	char			text[PBSD_CONF_MAX_LINE + 64];
	char			list[1024];
	size_t			n, i;

	/* A comment line of exactly PBSD_CONF_MAX_LINE bytes, then one more. */
	memset(text, 'x', sizeof(text));
	text[0] = '#';
	text[PBSD_CONF_MAX_LINE] = '\n';
	text[PBSD_CONF_MAX_LINE + 1] = '\0';
	T_EQ_INT(parse(&c, text, NULL), 0);
	text[PBSD_CONF_MAX_LINE] = 'x';
	text[PBSD_CONF_MAX_LINE + 1] = '\n';
	text[PBSD_CONF_MAX_LINE + 2] = '\0';
	T_EQ_INT(parse(&c, text, NULL), -1);
	/* 16 ids fit, 17 do not. */
	n = 0;
	n += (size_t)snprintf(list + n, sizeof(list) - n, "allow_uid =");
	for (i = 0; i < PBSD_CONF_MAX_IDS; i++) {
		n += (size_t)snprintf(list + n, sizeof(list) - n, " %zu", i);
	}
	T_EQ_INT(parse(&c, list, NULL), 0);
	T_EQ_INT(c.pc_nallow_uid, PBSD_CONF_MAX_IDS);
	(void)snprintf(list + n, sizeof(list) - n, " 99");
	T_EQ_INT(parse(&c, list, NULL), -1);
	/* 8 outputs fit, 9 do not. */
	n = 0;
	for (i = 0; i < PBSD_CONF_MAX_OUTPUTS; i++) {
		n += (size_t)snprintf(list + n, sizeof(list) - n,
		    "output = text /o%zu\n", i);
	}
	T_EQ_INT(parse(&c, list, NULL), 0);
	(void)snprintf(list + n, sizeof(list) - n, "output = text /o9\n");
	T_EQ_INT(parse(&c, list, NULL), -1);
	/* Name length: 63 chars fit a 64-byte field, 64 do not. */
	memset(text, 'u', sizeof(text));
	memcpy(text, "user=", 5);
	text[5 + PBSD_CONF_MAX_NAME - 1] = '\0';
	T_EQ_INT(parse(&c, text, NULL), 0);
	text[5 + PBSD_CONF_MAX_NAME - 1] = 'u';
	text[5 + PBSD_CONF_MAX_NAME] = '\0';
	T_EQ_INT(parse(&c, text, NULL), -1);
}

static void
test_keywords_sorted(void)
{
	size_t	i;

	T_ASSERT(pbsd_conf_key_name(0) != NULL);
	for (i = 1; pbsd_conf_key_name(i) != NULL; i++) {
		T_ASSERT(strcmp(pbsd_conf_key_name(i - 1),
		    pbsd_conf_key_name(i)) < 0);
	}
	T_ASSERT(i >= 10);
}

static void
test_ids(void)
{
	struct pbsd_conf	c;
	struct pbsd_ids		ids;
	const char		*errstr;

	T_EQ_INT(parse(&c, "allow_uid = root 65534 7\nallow_gid = 0\n",
	    NULL), 0);
	T_EQ_INT(pbsd_conf_ids(&c, &ids, &errstr), 0);
	T_EQ_INT(ids.pi_nuids, 3);
	T_EQ_INT(ids.pi_uids[0], 0);
	T_EQ_INT(ids.pi_uids[1], 65534);
	T_EQ_INT(ids.pi_ngids, 1);
	T_EQ_INT(parse(&c, "allow_uid = no-such-user-pbsd\n", NULL), 0);
	T_EQ_INT(pbsd_conf_ids(&c, &ids, &errstr), -1);
}

static void
test_nft_names(void)
{
	struct pbsd_conf	c;
	char			line[128];

	T_EQ_INT(parse(&c, "", NULL), 0);
	T_EQ_STR(c.pc_nft.nc_table, "");
	T_EQ_STR(c.pc_nft.nc_set4, "relay4");
	T_EQ_INT(parse(&c, "nft_table = pbsd\nnft_set4 = r_4\nnft_set6 = R6\n",
	    NULL), 0);
	T_EQ_STR(c.pc_nft.nc_table, "pbsd");
	T_EQ_STR(c.pc_nft.nc_set4, "r_4");
	T_EQ_STR(c.pc_nft.nc_set6, "R6");
	T_EQ_INT(parse(&c, "nft_table = a b\n", NULL), -1);
	T_EQ_INT(parse(&c, "nft_table = a;b\n", NULL), -1);
	T_EQ_INT(parse(&c, "nft_set4 =\n", NULL), -1);
	/* 31 characters fit, 32 do not. */
	(void)snprintf(line, sizeof(line), "nft_table = %.31s\n",
	    "tttttttttttttttttttttttttttttttttttttttt");
	T_EQ_INT(parse(&c, line, NULL), 0);
	(void)snprintf(line, sizeof(line), "nft_table = %.32s\n",
	    "tttttttttttttttttttttttttttttttttttttttt");
	T_EQ_INT(parse(&c, line, NULL), -1);
}

/*
 * Review L2: Sendmail reads "connect:IP OK" as "accept the connection",
 * which grants no relaying, so sendmail-connect must write RELAY.
 */
static void
test_sendmail_connect_value(void)
{
	struct pbsd_conf	 c;
	const char		*errstr = NULL;
	static const char	*refused[] = {
		"allow_uid = 0\noutput = hash /a.db\n"
		    "output_keys = sendmail-connect\n",
		"allow_uid = 0\noutput = hash /a.db\n"
		    "output_keys = sendmail-connect\noutput_value = OK\n",
		"allow_uid = 0\noutput = btree /a.db\n"
		    "output_keys = sendmail-connect\noutput_value = expiry\n",
		"allow_uid = 0\noutput = hash /a.db\noutput_value = RELAY\n"
		    "output = hash /b.db\noutput_keys = sendmail-connect\n",
	};
	size_t			 i;

	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		T_EQ_INT(parse(&c, refused[i], NULL), 0);
		T_EQ_INT(pbsd_conf_check(&c, &errstr), -1);
		T_EQ_STR(errstr, "sendmail-connect needs output_value = RELAY");
	}
	T_EQ_INT(parse(&c, "allow_uid = 0\noutput = hash /a.db\n"
	    "output_keys = sendmail-connect\noutput_value = RELAY\n"
	    "output = hash /b.db\n", NULL), 0);
	T_EQ_INT(pbsd_conf_check(&c, &errstr), 0);
	/* Other key styles keep every value. */
	T_EQ_INT(parse(&c, "allow_uid = 0\noutput = hash /a.db\n"
	    "output_keys = sendmail\noutput_value = OK\n", NULL), 0);
	T_EQ_INT(pbsd_conf_check(&c, &errstr), 0);
}

static const struct harness_case cases[] = {
	{ "full", test_full },
	{ "nft_names", test_nft_names },
	{ "defaults", test_defaults },
	{ "errors", test_errors },
	{ "line_and_list_limits", test_line_and_list_limits },
	{ "keywords_sorted", test_keywords_sorted },
	{ "ids", test_ids },
	{ "sendmail_connect_value", test_sendmail_connect_value },
};

HARNESS_MAIN("test_pbsd_conf", cases)

######################################################################
# popmap.re: a Perdition-style regular expression map (Bailey tests).
#
# Format (perditiondb(5)): <regular_expression>[:] <substitution>
# The colon after the expression is optional; blanks must follow it.
# '#' starts a comment, a backslash escapes the next character (so a
# regex "\." is written "\\."), '...' and "..." quote, and a backslash
# at the end of a line joins the next one.  Extended POSIX expressions,
# case-sensitive, no implicit ^ or $; the first match wins.
# Substitution: [<username>@]<server>[:<port>], $1..$9 from the groups.
######################################################################

# Exact users first.
^horms$:	localhost
^jain$:		jane@backend1.example.net
^user$: user2@localhost			# new name on the backend

# The example from perditiondb(5), restricted to one domain:
# user@x.y.z.de -> user_x.y.z.de@localhost
^([^@]+)@(x\\.y\\.z\\.de)$: $1_$2@localhost

# Keep the user, one domain to an IPv6 backend with a port.
^([^@]+)@v6\\.example\\.org$	$1@[2001:db8::25]:143

# Quoting and continuation.
'^with space$':	space.example.net
^long-user-name-\
with-continuation$: cont.example.net

# Letters a-k on one server, the rest on another (POP3 port).
^[a-k][^@]*$: pop1.example.net:110
^[^a-k][^@]*$: pop2.example.net:110

(: h
^a: b c
^novalue
^a: host:0

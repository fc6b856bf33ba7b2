# quoting
'^q q': "a b"@host
^x\ y:: h\
2
^bad: [::1

# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# The appliance's firewall without qemu: image/init_nft.c loads the ruleset
# over raw nfnetlink inside a throw-away network namespace (unshare -n),
# and nft(8) lists what the kernel holds.  Runs on the test machine as
# root (skips otherwise); trusts nft and the helper it compiles.
import os
import shutil
import subprocess
import tempfile

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
CFLAGS = ["-std=c11", "-D_GNU_SOURCE", "-O2", "-Wall", "-Wextra", "-Werror",
          "-Wshadow", "-Wpointer-arith", "-Wcast-qual",
          "-Wstrict-prototypes", "-Wmissing-prototypes",
          "-Wmissing-declarations", "-Wformat=2", "-Wsign-compare",
          "-Wimplicit-fallthrough", "-Wvla", "-iquote", "lib", "-iquote",
          "image"]

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("nft") is None or
    shutil.which("unshare") is None,
    reason="needs root, nft and unshare (network namespace)")

BASE_IN = ('\t\ttype filter hook input priority filter; policy drop;\n'
           '\t\tiif "lo" accept\n'
           '\t\tct state established,related accept\n')
BASE_OUT = ('\t\ttype filter hook output priority filter; policy drop;\n'
            '\t\toif "lo" accept\n'
            '\t\tct state established,related accept\n')


# pbsd's sets and the SMTP/submission rules that read them: with every
# valid appliance.conf, never in the deny-all ruleset.
SETS = ('\tset relay4 {\n\t\ttype ipv4_addr\n\t\tflags timeout\n\t}\n\n'
        '\tset relay6 {\n\t\ttype ipv6_addr\n\t\tflags timeout\n\t}\n\n')
RELAY_IN = ('\t\tip saddr @relay4 tcp dport 25 accept\n'
            '\t\tip saddr @relay4 tcp dport 587 accept\n'
            '\t\tip6 saddr @relay6 tcp dport 25 accept\n'
            '\t\tip6 saddr @relay6 tcp dport 587 accept\n')


def table(inp, out, relay=True):
    return ("table inet bailey_image {\n" + (SETS if relay else "") +
            "\tchain input {\n" + BASE_IN + inp +
            (RELAY_IN if relay else "") +
            "\t}\n\n\tchain output {\n" + BASE_OUT + out + "\t}\n}\n")


@pytest.fixture(scope="module")
def loader():
    d = tempfile.mkdtemp(prefix="bailey-nft.")
    exe = os.path.join(d, "nft_load")
    subprocess.run(["cc"] + CFLAGS + [
        "-o", exe, "tests/image/nft_load.c", "image/init_nft.c",
        "image/image_conf.c", "lib/buf.c", "lib/log.c"], cwd=TOP,
        check=True)
    yield exe, d
    shutil.rmtree(d, ignore_errors=True)


def load_and_list(loader, conf_text):
    exe, d = loader
    arg = "-"
    if conf_text is not None:
        arg = os.path.join(d, "appliance.conf")
        with open(arg, "w") as f:
            f.write(conf_text)
    r = subprocess.run(
        ["unshare", "-n", "sh", "-c",
         '"$0" "$1" && nft list table inet bailey_image', exe, arg],
        capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_ruleset_from_conf(loader):
    got = load_and_list(loader, "address 10.0.2.15/24\n"
                        "allow-in 143\nallow-in 110\nallow-in 993\n"
                        "allow-out 10.0.2.2 10143\n"
                        "allow-out 192.0.2.9 110\n")
    assert got == table("\t\ttcp dport 143 accept\n"
                        "\t\ttcp dport 110 accept\n"
                        "\t\ttcp dport 993 accept\n",
                        "\t\tip daddr 10.0.2.2 tcp dport 10143 accept\n"
                        "\t\tip daddr 192.0.2.9 tcp dport 110 accept\n")


def test_deny_all_ruleset(loader):
    assert load_and_list(loader, None) == table("", "", relay=False)


def test_sample_config_ruleset(loader):
    with open(os.path.join(TOP, "image", "config", "etc",
                           "appliance.conf")) as f:
        got = load_and_list(loader, f.read())
    assert got == table("\t\ttcp dport 143 accept\n"
                        "\t\ttcp dport 110 accept\n"
                        "\t\ttcp dport 993 accept\n"
                        "\t\ttcp dport 995 accept\n",
                        "\t\tip daddr 10.0.2.2 tcp dport 10143 accept\n"
                        "\t\tip daddr 10.0.2.2 tcp dport 10110 accept\n")


def test_limits_fill_one_batch(loader):
    """16 allow-in and 32 allow-out lines, the parser's maxima, fit (with
    the two sets and four relay rules)."""
    conf = "address 10.0.2.15/24\n"
    conf += "".join("allow-in %d\n" % (i + 1) for i in range(16))
    conf += "".join("allow-out 10.0.0.%d %d\n" % (i, i + 1000)
                    for i in range(32))
    got = load_and_list(loader, conf)
    assert got.count("tcp dport") == 48 + 4
    assert "ip daddr 10.0.0.31 tcp dport 1031 accept" in got


def test_relay_set_takes_timed_elements(loader):
    """pbsd's nft writer adds elements with a timeout; the kernel must
    accept them in the sets init made (flags timeout, the right key
    type), and refuse an address of the other family."""
    exe, d = loader
    conf = os.path.join(d, "relay.conf")
    with open(conf, "w") as f:
        f.write("address 10.0.2.15/24\nallow-in 143\n")
    r = subprocess.run(
        ["unshare", "-n", "sh", "-c",
         '"$0" "$1" && '
         'nft add element inet bailey_image relay4 "{ 10.0.2.2 timeout 60s }"'
         ' && nft add element inet bailey_image relay6 '
         '"{ 2001:db8::2 timeout 60s }" && '
         'nft list set inet bailey_image relay4 && '
         'nft list set inet bailey_image relay6 && '
         '! nft add element inet bailey_image relay4 "{ 2001:db8::3 }"',
         exe, conf], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "elements = { 10.0.2.2 timeout 1m expires " in r.stdout
    assert "elements = { 2001:db8::2 timeout 1m expires " in r.stdout

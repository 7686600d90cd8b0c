from reviewbot.service.verify import github_ok, github_signature, gitlab_ok

SECRET = b"It's a Secret to Everybody"
VECTOR = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_github_documented_vector():
    assert github_signature(SECRET, b"Hello, World!") == VECTOR
    assert github_ok(SECRET, b"Hello, World!", VECTOR)


def test_github_forged_rejected():
    assert not github_ok(SECRET, b"Hello, World!!", VECTOR)
    assert not github_ok(SECRET, b"Hello, World!", VECTOR[:-1] + "0")
    assert not github_ok(SECRET, b"Hello, World!", None)
    assert not github_ok(SECRET, b"Hello, World!", "sha1=" + VECTOR[7:])
    assert not github_ok(b"", b"Hello, World!", VECTOR)


def test_gitlab_token():
    assert gitlab_ok(b"tok", "tok")
    assert not gitlab_ok(b"tok", "tok2")
    assert not gitlab_ok(b"tok", None)
    assert not gitlab_ok(b"", "")

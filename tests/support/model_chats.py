"""Small chats for the backends' tests on the real embedded model: a route choice, a constrained
question on the chosen route, and a file to score."""

SYSTEM = {
    "role": "system",
    "content": "You review code changes. Pick the job for this change: review or tools.",
}
USER = {"role": "user", "content": "diff:\n-    n = len(items)\n+    n = len(items) - 1\nWhich job?"}
LABELS = ["review", "tools"]
SCHEMA = {
    "type": "object",
    "properties": {"bug": {"type": "boolean"}, "why": {"type": "string"}},
    "required": ["bug", "why"],
    "additionalProperties": False,
}
ROUTE = [
    SYSTEM,
    USER,
    {"role": "assistant", "content": "review"},
    {"role": "user", "content": "Is there a bug? Answer in JSON."},
]
ASK = [{"role": "user", "content": "Show the code of util.py."}]

// Signs every example payload of @octokit/webhooks-examples with @octokit/webhooks-methods (the
// implementation Probot uses), one JSON line per example: {event, body, signature}.
// usage: node octokit_sign.mjs NODE_MODULES SECRET
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [root, secret] = process.argv.slice(2);
const methods = await import(pathToFileURL(join(root, "@octokit/webhooks-methods/dist-node/index.js")).href);
const index = JSON.parse(readFileSync(join(root, "@octokit/webhooks-examples/api.github.com/index.json"), "utf8"));
for (const event of index) {
  for (const example of event.examples) {
    const body = JSON.stringify(example);
    const signature = await methods.sign(secret, body);
    if (!(await methods.verify(secret, body, signature))) throw new Error("octokit does not verify its own");
    process.stdout.write(JSON.stringify({ event: event.name, body, signature }) + "\n");
  }
}

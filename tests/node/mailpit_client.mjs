// Drives the harness through the npm package mailpit-api (2.1.0, unchanged), as a CI user's tests would.
// argv: <path to mailpit-api's index.mjs> <base URL>. Prints one JSON object per line; "waiting" before
// it waits for a message the Python side sends only then.
import { pathToFileURL } from "node:url";
import readline from "node:readline";

const [modulePath, baseURL] = process.argv.slice(2);
const { MailpitClient } = await import(pathToFileURL(modulePath).href);
const mailpit = new MailpitClient(baseURL);
const say = (step, value) => console.log(JSON.stringify({ step, value }));
const lines = readline.createInterface({ input: process.stdin });
const next = () => new Promise((resolve) => lines.once("line", resolve));

const listed = await mailpit.listMessages();
say("listMessages", listed);
const latest = await mailpit.getMessageSummary();
say("latest", latest);
const withFile = listed.messages.find((m) => m.Attachments > 0);
const summary = await mailpit.getMessageSummary(withFile.ID);
say("getMessageSummary", summary);
say("getMessageHeaders", await mailpit.getMessageHeaders(withFile.ID));
say("getMessageSource", await mailpit.getMessageSource(withFile.ID));
const blob = await mailpit.getMessageAttachment(withFile.ID, summary.Attachments[0].PartID);
say("getMessageAttachment", { type: blob.type, base64: Buffer.from(await blob.arrayBuffer()).toString("base64") });
say("search to:", await mailpit.searchMessages({ query: "to:ops@a.example" }));
say("search subject:", await mailpit.searchMessages({ query: 'subject:"Invoice run"' }));
say("search has:attachment", await mailpit.searchMessages({ query: "has:attachment" }));
say("renderMessageHTML", await mailpit.renderMessageHTML(withFile.ID));
say("renderMessageText", await mailpit.renderMessageText(withFile.ID));

const waiting = mailpit.waitForMessage({ query: "subject:Latecomer" }, { timeout: 20000, interval: 200 });
say("waiting", null);
await next(); // the Python side has sent it
say("waitForMessage", await waiting);

say("deleteMessagesBySearch", await mailpit.deleteMessagesBySearch({ query: "to:lic@b.example" }));
say("after deleteMessagesBySearch", await mailpit.listMessages());
say("deleteMessages", await mailpit.deleteMessages({ IDs: [latest.ID] }));
say("after deleteMessages", await mailpit.listMessages());
say("deleteMessages all", await mailpit.deleteMessages());
say("after all", await mailpit.listMessages());
lines.close();

/**
 * Help texts: one overview and one page per command.
 */

/** Commands the CLI knows. */
export type CommandName = 'token' | 'introspect' | 'check';

/** The command's name, as package.json's `bin` declares it. */
export const BIN = 'zitadel-introspection';

const EXIT_CODES = `Exit codes:
  0  ok
  1  usage or configuration error (bad key file, client authentication
     rejected, discovery names another issuer)
  2  ZITADEL unreachable or answering garbage
  3  the token is not active (introspect)`;

const API_CREDENTIALS = `  --key FILE             key file of the API application (JSON, type "application")
  --client-id ID         or: client id of the API application ...
  --client-secret SECRET ... and its secret (or set ZITADEL_CLIENT_SECRET,
                         which other users cannot see in the process list)`;

/** The overview, for `--help` and for a missing or unknown command. */
export const OVERVIEW = `Usage: ${BIN} <command> [options]

Commands:
  token        get an access token for a service user and print it
  introspect   ask ZITADEL about a token, as your API would
  check        check an API application's configuration against ZITADEL

Run '${BIN} <command> --help' for the options of a command.

${EXIT_CODES}`;

/** The usage line of each command, first line of its help. */
const USAGE: Record<CommandName, string> = {
  token: `Usage: ${BIN} token --issuer URL (--key service-user.json | --client-id ID --client-secret SECRET) [--scope SCOPE]...`,
  introspect: `Usage: ${BIN} introspect --issuer URL (--key api-key.json | --client-id ID --client-secret SECRET) [--project-id ID] [--json] TOKEN|-`,
  check: `Usage: ${BIN} check --issuer URL (--key api-key.json | --client-id ID --client-secret SECRET) [--token TOKEN | --token -]`,
};

/** The `--help` page of each command. */
export const HELP: Record<CommandName, string> = {
  token: `${USAGE.token}

Gets an access token for a ZITADEL service user and prints it on stdout,
nothing else: with a key file by the JWT-bearer grant, with a client id and
secret by client credentials.

Options:
  --issuer URL           the ZITADEL instance, e.g. https://acme.zitadel.cloud
  --key FILE             key file of the service user (JSON, type "serviceaccount")
  --client-id ID         or: the service user's client id ...
  --client-secret SECRET ... and its secret (or set ZITADEL_CLIENT_SECRET)
  --scope SCOPE          scope to ask for; repeat it or join scopes with spaces
                         (default: openid)
  -h, --help             this help

Tip: for the token to be accepted by your API, ask for
  --scope "openid urn:zitadel:iam:org:project:id:<projectId>:aud urn:zitadel:iam:org:projects:roles"
(the first gives the token your project as audience, the second its roles).

Example:
  TOKEN=$(${BIN} token --issuer https://acme.zitadel.cloud --key ./service-user.json \\
    --scope "openid urn:zitadel:iam:org:project:id:301255683459087361:aud")
  curl -H "Authorization: Bearer $TOKEN" https://api.example.com/reports

${EXIT_CODES}`,

  introspect: `${USAGE.introspect}

Asks ZITADEL's introspection endpoint about TOKEN with the API application's
credentials, as your API would, and prints whether it is active, its subject,
client id, username, scopes, roles by organization, expiry and audience. For
an inactive token it lists the likely reasons. The token is never printed.

Options:
  --issuer URL           the ZITADEL instance, e.g. https://acme.zitadel.cloud
${API_CREDENTIALS}
  --project-id ID        read the roles of this project, and name it in hints
  --json                 print the result as JSON (still without the token)
  -h, --help             this help

TOKEN may be '-' to read it from stdin, which keeps it out of the process
list and the shell history. A token that starts with a dash is still a
token ('--' before it works as well).

Example:
  ${BIN} token --issuer "$ISSUER" --key ./service-user.json --scope "$SCOPES" |
    ${BIN} introspect --issuer "$ISSUER" --key ./api-key.json -

${EXIT_CODES}`,

  check: `${USAGE.check}

Checks, one line each: that discovery at the issuer is reachable and names
the same issuer, that the key file loads and is an API application's key,
and that ZITADEL accepts our client authentication (one introspection call
with a random token, which must come back inactive). ZITADEL also answers
inactive to a malformed client assertion, so only --token proves the whole
path: a real token must come back active for this API (exit 3 if not, with
the likely reasons).

Options:
  --issuer URL           the ZITADEL instance, e.g. https://acme.zitadel.cloud
${API_CREDENTIALS}
  --token TOKEN          also introspect this real token (- reads it from stdin)
  --project-id ID        read roles of this project (with --token)
  -h, --help             this help

Example:
  ${BIN} check --issuer https://acme.zitadel.cloud --key ./api-key.json
  ${BIN} token --issuer "$ISSUER" --key ./service-user.json --scope "$SCOPES" |
    ${BIN} check --issuer "$ISSUER" --key ./api-key.json --token -

${EXIT_CODES}`,
};

import ArgumentParser
import Client
import Foundation
import Server

/// `orchestrator token create|list|revoke`: API tokens (docs/security.md). Each needs an
/// admin token itself (`ORCHESTRATOR_TOKEN` or `--token-file`).
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Create, list and revoke API tokens (admin).",
        discussion: """
            A token is orch_<id>_<secret>; the cluster keeps only the SHA-256 of the secret. \
            Roles: read (GETs), submit (also start instances and request transitions), admin \
            (also register workflows, tokens, membership, snapshots). The CLI sends the token \
            in $ORCHESTRATOR_TOKEN, or the one in --token-file.

            Examples:
              export ORCHESTRATOR_TOKEN=$(cat admin.token)
              orchestrator token create --role submit --name ci-deployer --ttl 30d
              orchestrator token list
              orchestrator token revoke 3f9a1c0b2d4e
            """,
        subcommands: [Create.self, List.self, Revoke.self, BootstrapFile.self]
    )

    /// `orchestrator token bootstrap-file PATH`
    struct BootstrapFile: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bootstrap-file",
            abstract: "Write a new admin token to PATH (mode 0600) for serve --bootstrap-token-file; talks to no node.",
            discussion: """
                Made once for a new cluster and given to every node (`serve --bootstrap-token-file PATH`): \
                the first node that leads creates it as the cluster's first admin token. An existing \
                file is left alone (exit 2), so a token in use is never replaced by accident.

                Example:
                  orchestrator token bootstrap-file admin.token
                """
        )

        @Argument(help: "Where to write the token.")
        var path: String

        func run() throws {
            guard !FileManager.default.fileExists(atPath: path) else {
                printError("error: \(path) exists; remove it first to make a new bootstrap token")
                throw ExitCode(ExitStatus.usage)
            }
            do {
                let (token, _) = try BootstrapTokenFile.load(path)
                print("wrote a new admin token \(token.id) to \(path) (mode 0600); give it to every node with --bootstrap-token-file")
            } catch {
                printError("error: \(error)")
                throw ExitCode(ExitStatus.usage)
            }
        }
    }

    /// `orchestrator token create --role R --name N [--ttl D]`
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token and print it once.",
            discussion: """
                The token goes to standard output alone (so `> file` keeps it), what it is to \
                standard error. It is not shown again: store it now. The cluster's first token \
                turns authentication on for good and must be an admin token.

                Exit status: 0 ok, 2 bad flags, 3 cluster unavailable, 5 not authorized.

                Example:
                  orchestrator token create --role read --name grafana > grafana.token
                """
        )

        @Option(help: "read, submit or admin.")
        var role: String

        @Option(help: "A name for people (1-64 letters, digits, . _ - @ or spaces); histories and logs show it.")
        var name: String

        @Option(help: "Lifetime, e.g. 30d or 12h (default: no expiry).")
        var ttl: String?

        @OptionGroup var options: ClientOptions

        func validate() throws {
            guard ["read", "submit", "admin"].contains(role) else {
                throw ValidationError("--role must be read, submit or admin, not '\(role)'")
            }
        }

        func run() async throws {
            try await options.withClient { client in
                let reply = try await client.call(.createToken(role: role, name: name, ttl: ttl))
                if options.json {
                    print(String(decoding: reply.body, as: UTF8.self))
                    return
                }
                let info = reply.value
                print(info.token ?? "")
                printError("created token \(info.id) (\(info.name), role \(info.role)"
                    + "\(info.expiresAt.map { ", expires \($0)" } ?? "")); it is not shown again")
            }
        }
    }

    /// `orchestrator token list`
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List tokens (never their secrets).",
            discussion: """
                Exit status: 0 ok, 3 cluster unavailable, 5 not authorized.

                Example:
                  orchestrator token list --json
                """
        )

        @OptionGroup var options: ClientOptions

        func run() async throws {
            try await options.withClient { client in
                let reply = try await client.call(.tokens)
                options.emit(reply) { list in
                    guard !list.tokens.isEmpty else { return "no tokens: authentication is off" }
                    var rows = [["ID", "NAME", "ROLE", "STATUS", "CREATED", "EXPIRES"]]
                    for token in list.tokens {
                        rows.append([token.id, token.name, token.role, token.status, token.createdAt, token.expiresAt ?? "-"])
                    }
                    return table(rows)
                }
            }
        }
    }

    /// `orchestrator token revoke ID`
    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a token: every node refuses it once it has applied the revocation.",
            discussion: """
                Exit status: 0 ok, 1 unknown token, 3 cluster unavailable, 5 not authorized.

                Example:
                  orchestrator token revoke 3f9a1c0b2d4e
                """
        )

        @Argument(help: "The token's id (the 12 hex digits after orch_).")
        var id: String

        @OptionGroup var options: ClientOptions

        func run() async throws {
            try await options.withClient { client in
                let reply = try await client.call(.revokeToken(id))
                options.emit(reply) { token in "revoked token \(token.id) (\(token.name), role \(token.role)) at \(token.revokedAt ?? "?")" }
            }
        }
    }
}

import ArgumentParser
import Client
import Foundation

/// Options every verb that talks to a node shares: which node, and raw JSON output.
struct ClientOptions: ParsableArguments {
    /// The address used when neither `--server` nor `ORCHESTRATOR_ADDR` is given.
    static let defaultAddress = "http://127.0.0.1:8080"

    @Option(name: .customLong("server"),
            help: ArgumentHelp("The node to talk to, or several comma-separated (tried in turn when one cannot be reached); default: $ORCHESTRATOR_ADDR, else \(ClientOptions.defaultAddress).",
                               valueName: "url[,url…]"))
    var server: String?

    @Flag(help: "Print the server's JSON answer (keys sorted) instead of the short summary.")
    var json = false

    @Option(name: .customLong("token-file"),
            help: ArgumentHelp("A file holding the API token to send (orch_<id>_<secret>); default: $ORCHESTRATOR_TOKEN, the token itself.",
                               valueName: "path"))
    var tokenFile: String?

    @Option(help: ArgumentHelp("Keep retrying an unavailable cluster (same request id) for up to this many seconds.",
                               valueName: "seconds"))
    var timeout: Double = 15

    @OptionGroup var tls: TLSClientOptions

    /// `--server`, else `ORCHESTRATOR_ADDR`, else the default.
    var address: String {
        if let server, !server.isEmpty { return server }
        if let env = ProcessInfo.processInfo.environment["ORCHESTRATOR_ADDR"], !env.isEmpty { return env }
        return ClientOptions.defaultAddress
    }

    /// The API token to send: `--token-file`'s, else `ORCHESTRATOR_TOKEN`, else none.
    func token() throws -> String? { try ClientOptions.token(file: tokenFile) }

    /// The token in `file`, else in `ORCHESTRATOR_TOKEN`, else none — for every verb that sends
    /// one (`bench` too). A malformed or unreadable one is a usage error naming where it came from.
    static func token(file: String?) throws -> String? {
        let (text, source): (String, String)
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                printError("error: --token-file \(file): cannot read it")
                throw ExitCode(ExitStatus.usage)
            }
            (text, source) = (String(decoding: data, as: UTF8.self), "--token-file \(file)")
        } else if let env = ProcessInfo.processInfo.environment["ORCHESTRATOR_TOKEN"], !env.isEmpty {
            (text, source) = (env, "ORCHESTRATOR_TOKEN")
        } else {
            return nil
        }
        guard let token = APIToken(parsing: text) else {
            printError("error: \(source) does not hold an API token (orch_<12 hex digits>_<64 hex digits>, as `orchestrator token create` prints)")
            throw ExitCode(ExitStatus.usage)
        }
        return token.text
    }

    /// Runs `body` with a client of `address`, shuts the client down, and turns client errors
    /// into a message on standard error and the documented exit status.
    /// `requestID` is the write's request id, named in the hint when its outcome stays unknown.
    /// `waitSeconds` overrides the longest wait for an answer's next bytes (default: `--timeout`,
    /// 1 to 10 s).
    func withClient(retry: RetryPolicy? = nil, requestID: String? = nil, waitSeconds: Double? = nil,
                    _ body: (OrchestratorClient) async throws -> Void) async throws {
        guard timeout >= 0, timeout <= 3_600 else {
            throw ValidationError("--timeout must be between 0 and 3600 seconds, not \(timeout)")
        }
        let policy = retry ?? RetryPolicy(deadlineSeconds: timeout)
        let wait = waitSeconds ?? max(1, min(10, timeout))
        var configuration = OrchestratorClient.Configuration(requestTimeoutSeconds: wait, retry: policy, token: try token())
        configuration.tls = try tls.configuration()
        let client = OrchestratorClient(baseURL: address, configuration: configuration)
        do {
            try await body(client)
            try? await client.shutdown()
        } catch let error as ClientError {
            try? await client.shutdown()
            report(error, requestID: requestID)
            throw ExitCode(ClientOptions.exitStatus(for: error))
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// Prints `reply`'s raw body with `--json`, else `human()`.
    func emit<Value>(_ reply: Reply<Value>, human: (Value) -> String) {
        if json {
            print(String(decoding: reply.body, as: UTF8.self))
        } else {
            let text = human(reply.value)
            if !text.isEmpty { print(text) }
        }
    }

    /// Writes the error for people (standard error) and, with `--json`, as the API's error
    /// object (standard output).
    func report(_ error: ClientError, requestID: String? = nil) {
        if json {
            let (code, message, details): (String, String, [String: JSONValue]) = switch error {
            case .rejected(_, let code, let message, let details): (code, message, details)
            case .busy(let code, let message, _), .unavailable(let code, let message), .outcomeUnknown(let code, let message):
                (code, message, [:])
            case .server(let status, let body): ("http_\(status)", body, [:])
            }
            print(ErrorEnvelope(code: code, message: message, details: details).json.jsonText)
        }
        switch error {
        case .rejected(401, let code, let message, _):
            printError("error: not authenticated by \(address): \(message) [\(code)]")
            printError("hint: set ORCHESTRATOR_TOKEN or pass --token-file with a token from `orchestrator token create`")
        case .rejected(403, let code, let message, _):
            printError("error: not allowed: \(message) [\(code)]")
            printError("hint: use a token with the role named above (an admin makes one with `orchestrator token create --role …`)")
        case .rejected(_, let code, let message, let details):
            printError("error: \(message) [\(code)]")
            if let diagnostics = details["diagnostics"]?.arrayValue {
                for diagnostic in diagnostics { printError(ClientOptions.diagnosticLine(diagnostic)) }
            }
        case .busy(let code, let message, _):
            printError("error: the cluster at \(address) is busy and did not apply the request: \(message) [\(code)]")
            printError("hint: retry shortly, or raise --timeout to keep retrying")
        case .unavailable(let code, let message) where TLSMismatch.codes.contains(code):
            printError("error: \(message)")
        case .unavailable(let code, let message):
            printError("error: cluster unavailable at \(address): \(message) [\(code)]")
            if code == "connection_failed" {
                printError("hint: is a node running there? (orchestrator serve, or --server / ORCHESTRATOR_ADDR)")
            }
        case .outcomeUnknown(let code, let message):
            printError("error: the outcome is unknown (the request may have been applied): \(message) [\(code)]")
            if let requestID {
                printError("hint: run the same command again with --request-id \(requestID): a repeated request id is applied once and answers with the real outcome")
            } else {
                printError("hint: check with `orchestrator status` before repeating it")
            }
        case .server(let status, let body):
            printError("error: unexpected answer from \(address) (HTTP \(status)): \(body.prefix(300))")
        }
    }

    /// `file:line:column: severity: message` from a diagnostic object of a 422.
    static func diagnosticLine(_ value: JSONValue) -> String {
        guard let object = value.objectValue else { return value.jsonText }
        func text(_ key: String) -> String {
            switch object[key] {
            case .string(let string)?: return string
            case .number(let number)?: return String(Int(number))
            default: return "?"
            }
        }
        return "\(text("file")):\(text("line")):\(text("column")): \(text("severity")): \(text("message"))"
    }

    /// docs/cli.md: 1 rejected (404, 409), 2 usage or validation (400, 413, 422), 3 unavailable
    /// or busy (not applied), 4 outcome unknown, 5 not authorized (401, 403).
    static func exitStatus(for error: ClientError) -> Int32 {
        switch error {
        case .rejected(let status, _, _, _) where status == 401 || status == 403:
            return ExitStatus.unauthorized
        case .rejected(let status, _, _, _):
            return [400, 413, 422].contains(status) ? ExitStatus.usage : ExitStatus.rejected
        case .busy, .unavailable, .server:
            return ExitStatus.unavailable
        case .outcomeUnknown:
            return ExitStatus.outcomeUnknown
        }
    }

    /// Parses a `--data` value: a JSON object. Exits with status 2 when it is not one.
    static func parseData(_ text: String?, option: String = "--data") throws -> [String: JSONValue]? {
        guard let text else { return nil }
        guard let object = try? JSONBody.parseObject(Array(text.utf8)) else {
            printError("error: \(option) must be a JSON object, e.g. \(option) '{\"priority\":\"high\"}'; got: \(text)")
            throw ExitCode(ExitStatus.usage)
        }
        return object
    }
}

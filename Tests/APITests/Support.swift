@testable import API
import Engine
import Foundation
import Hummingbird
import HummingbirdTesting
import Workflow
import XCTest

/// One API node over the real engine and the twins.
struct Fixture {
    let engine: ReplicatedEngine
    let consensus: TwinConsensus
    let api: APIServer

    init(behaviour: TwinConsensus.Behaviour = .lead, node: UInt64 = 1, leaderAPI: String? = nil,
         settings: APISettings = APISettings(), engine: ReplicatedEngine = ReplicatedEngine(),
         pluginNames: (@Sendable () -> Set<String>)? = nil, clock: (any WallClock)? = nil) {
        self.engine = engine
        let isLeader: Bool = if case .follow = behaviour { false } else { true }
        consensus = TwinConsensus(engine: engine, behaviour: behaviour, node: node,
                                  leader: isLeader ? node : (leaderAPI == nil ? nil : 1), leaderAPI: leaderAPI)
        api = APIServer(engine: engine, consensus: consensus, settings: settings,
                        metricsText: { "# TYPE orchestrator_up gauge\norchestrator_up 1\n" }, pluginNames: pluginNames,
                        clock: clock ?? consensus.clock)
    }

    /// The application as `serve` runs it: the router, and on live sockets the transition
    /// fast path behind the HTTP codec (`fastPath: false` leaves every request to the router).
    func application(fastPath: Bool = true) -> some ApplicationProtocol {
        Application(router: api.buildRouter(),
                    server: .http1(configuration: .init(additionalChannelHandlers: fastPath ? api.fastPathHandlers() : [])))
    }

    var application: some ApplicationProtocol { application() }

    /// Runs `body` against the router in-process (no sockets).
    func test(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await application.test(.router, body)
        await api.shutdown()
    }

    /// Runs `body` against a live server on a free loopback port.
    func live(fastPath: Bool = true, _ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        do {
            try await application(fastPath: fastPath).test(.live, body)
        } catch {
            await api.shutdown()   // also on failure: a client left open traps in its deinit
            throw error
        }
        await api.shutdown()
    }
}

/// The cookbook ring and a workflow with a final state.
enum Definitions {
    static let cookbook = """
        workflow: cookbook
        initial: first
        states:
          first: {}
          second: {}
          third: {}
        transitions:
          second: { from: first, to: second }
          third: { from: second, to: third }
          first: { from: third, to: first }
        """

    static let order = """
        workflow: order
        initial: created
        data:
          priority: normal
        states:
          created: {}
          paid: {}
          cancelled: { final: true }
        transitions:
          pay: { from: created, to: paid }
          cancel: { from: [created, paid], to: cancelled }
        """
}

/// A decoded response.
struct Answer {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var json: JSONValue
    var text: String

    subscript(_ key: String) -> JSONValue? { json.objectValue?[key] }

    /// `error.code` of an error answer.
    var code: String? { self["error"]?.objectValue?["code"]?.stringValue }
    var details: [String: JSONValue] { self["error"]?.objectValue?["details"]?.objectValue ?? [:] }
}

extension TestClientProtocol {
    /// Sends `body` (text) and decodes the JSON answer.
    func call(_ method: HTTPRequest.Method, _ uri: String, _ body: String? = nil, headers: HTTPFields = [:],
              file: StaticString = #filePath, line: UInt = #line) async throws -> Answer {
        var headers = headers
        if body != nil, headers[.contentType] == nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
            let text = String(buffer: response.body)
            let json = (try? JSONBody.parse(Array(text.utf8))) ?? .null
            return Answer(status: response.status, headers: response.headers, json: json, text: text)
        }
    }

    /// Registers `yaml` and asserts it was accepted.
    func register(_ name: String, _ yaml: String, file: StaticString = #filePath, line: UInt = #line) async throws {
        let answer = try await call(.put, "/v1/workflows/\(name)", yaml, headers: [.contentType: "application/yaml"])
        XCTAssertTrue([.created, .ok].contains(answer.status), answer.text, file: file, line: line)
    }

    /// Starts `id` of `workflow` and asserts 201.
    func start(_ workflow: String, id: String, file: StaticString = #filePath, line: UInt = #line) async throws {
        let answer = try await call(.post, "/v1/instances", #"{"workflow":"\#(workflow)","id":"\#(id)"}"#)
        XCTAssertEqual(answer.status, .created, answer.text, file: file, line: line)
    }
}

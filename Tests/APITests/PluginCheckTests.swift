@testable import API
import Engine
import Synchronization
import XCTest

/// Registering a definition whose hooks name a plugin the node does not have is refused.
final class PluginCheckTests: XCTestCase {
    func testADefinitionNamingAMissingPluginIsRefusedAndOneAddedLaterIsSeen() async throws {
        let available = Mutex<Set<String>>(["task"])
        let fixture = Fixture(pluginNames: { available.withLock { $0 } })
        let yaml = """
            workflow: hooked
            initial: a
            states:
              a: { on_exit: [{ plugin: notify }] }
              b: {}
            transitions:
              go: { from: a, to: b }
            """
        try await fixture.test { client in
            let refused = try await client.call(.put, "/v1/workflows/hooked", yaml)
            XCTAssertEqual(refused.status, .unprocessableContent, refused.text)
            XCTAssertEqual(refused.code, "invalid_definition")
            XCTAssertTrue(refused.text.contains("unknown plugin 'notify'"), refused.text)
            available.withLock { _ = $0.insert("notify") }
            let accepted = try await client.call(.put, "/v1/workflows/hooked", yaml)
            XCTAssertEqual(accepted.status, .created, accepted.text)
        }
    }
}

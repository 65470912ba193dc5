import Foundation
import XCTest
@testable import Workflow

/// A definition's content hash is its identity in every stored log, snapshot and backup: a
/// registration of the same file must keep naming the same version. These hashes were taken
/// with the hand-written SHA-256 the project used before swift-crypto; any change to the
/// canonical encoding or the digest shows up here.
final class DefinitionHashPinTests: XCTestCase {
    func testExampleWorkflowsKeepTheirContentHashes() throws {
        let pinned = [
            "approval.yaml": "fee73743be0c7852d53bd75d4e5c4f9b4e61fe8b4b1e7d9f2c6657567dcaa30c",
            "cookbook.yaml": "f91ae92377db30a36a74da239ff898f49af43e4eba4ce53ffe9b130a7620da12",
            "deploy.yaml": "b2e35f70fda403eff1c051c09aba908a7f4cbf51a114b4678220d456c42f7f86",
            "order.yaml": "175a1f1e5d10df20eb42681ec4195dbf8ba9a5322cf33aed6fc2bf45c4fb6a4d",
        ]
        for (file, hash) in pinned.sorted(by: { $0.key < $1.key }) {
            let url = repositoryRoot.appendingPathComponent("workflows").appendingPathComponent(file)
            let text = try String(contentsOf: url, encoding: .utf8)
            let result = WorkflowLoader.load(text: text, file: file)
            let definition = try XCTUnwrap(result.definition, "\(file): \(result.diagnostics)")
            XCTAssertEqual(definition.contentHash, hash, file)
        }
    }

    func testSHA256KnownAnswers() {
        XCTAssertEqual(WorkflowDefinition.sha256Hex([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(WorkflowDefinition.sha256Hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(WorkflowDefinition.sha256Hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}

import XCTest
@testable import Workflow

final class GraphTests: XCTestCase {
    let yaml = """
        workflow: review
        initial: draft
        states:
          draft: {}
          in-review: { timeout: { after: 2d, transition: expire } }
          published: { final: true }
          expired: { final: true }
        transitions:
          submit: { from: draft, to: in-review }
          publish: { from: in-review, to: published }
          expire: { from: in-review, to: expired }
          discard: { from: "*", to: expired }
        triggers:
          - { name: sweep, cron: "0 3 * * *", timezone: Europe/Berlin, transition: discard, where: { state: draft } }
          - { name: daily, cron: "@daily", start: {} }

        """.replacingOccurrences(of: "2d", with: "48h")

    func testMermaidMarksFinalsLabelsTransitionsAndShowsTriggersAndTimeouts() throws {
        let definition = try XCTUnwrap(definition(yaml))
        XCTAssertEqual(WorkflowGraph.render(definition, format: .mermaid), """
            %% workflow review, content hash \(definition.contentHash)
            stateDiagram-v2
                state "in-review" as in_review
                [*] --> draft : cron daily: @daily
                draft --> expired : discard [cron sweep: 0 3 * * * Europe/Berlin]
                draft --> in_review : submit
                in_review --> expired : discard
                in_review --> expired : expire [after 48h]
                in_review --> published : publish
                expired --> [*]
                published --> [*]

            """)
    }

    func testDotMarksFinalsLabelsTransitionsAndShowsTriggersAndTimeouts() throws {
        let definition = try XCTUnwrap(definition(yaml))
        XCTAssertEqual(WorkflowGraph.render(definition, format: .dot), """
            // workflow review, content hash \(definition.contentHash)
            digraph "review" {
                rankdir=LR;
                node [shape=box, style=rounded];
                "[*]" [shape=point, label=""];
                "draft";
                "expired" [shape=doublecircle, style=solid];
                "in-review";
                "published" [shape=doublecircle, style=solid];
                "[*]" -> "draft" [label="cron daily: @daily"];
                "draft" -> "expired" [label="discard [cron sweep: 0 3 * * * Europe/Berlin]"];
                "draft" -> "in-review" [label="submit"];
                "in-review" -> "expired" [label="discard"];
                "in-review" -> "expired" [label="expire [after 48h]"];
                "in-review" -> "published" [label="publish"];
            }

            """)
    }

    func testOutputDoesNotDependOnDeclarationOrder() throws {
        let first = try XCTUnwrap(definition(yaml))
        let reordered = yaml
            .replacingOccurrences(of: "  published: { final: true }\n  expired: { final: true }", with: "  expired: { final: true }\n  published: { final: true }")
        let second = try XCTUnwrap(definition(reordered))
        XCTAssertNotEqual(first.contentHash, second.contentHash)
        for format in WorkflowGraph.Format.allCases {
            XCTAssertEqual(WorkflowGraph.render(first, format: format).split(separator: "\n").dropFirst(),
                           WorkflowGraph.render(second, format: format).split(separator: "\n").dropFirst())
        }
    }

    func testMermaidIdsDoNotCollide() throws {
        let definition = try XCTUnwrap(definition("""
            workflow: w
            initial: a-b
            states:
              a-b: {}
              a_b: { final: true }
            transitions:
              go: { from: a-b, to: a_b }

            """))
        XCTAssertTrue(WorkflowGraph.render(definition, format: .mermaid).contains("""
                state "a-b" as a_b_2
                [*] --> a_b_2
                a_b_2 --> a_b : go
                a_b --> [*]
            """))
    }
}

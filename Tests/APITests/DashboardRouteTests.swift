@testable import API
import Foundation
import Hummingbird
import HummingbirdTesting
import XCTest

/// The dashboard's static files at `/ui/` (the browser tests in IntegrationTests drive them).
final class DashboardRouteTests: XCTestCase {
    func testTheDashboardIsServedWithAStrictContentSecurityPolicy() async throws {
        try await Fixture().test { client in
            let page = try await client.call(.get, "/ui/")
            XCTAssertEqual(page.status, .ok, page.text)
            XCTAssertEqual(page.headers[.contentType], "text/html; charset=utf-8")
            let policy = try XCTUnwrap(page.headers[.contentSecurityPolicy])
            XCTAssertTrue(policy.hasPrefix("default-src 'self'"), policy)
            XCTAssertFalse(policy.contains("unsafe-inline"), policy)
            XCTAssertEqual(page.headers[.xContentTypeOptions], "nosniff")
            XCTAssertTrue(page.text.contains(#"<script src="app.js" defer></script>"#), page.text)
            XCTAssertFalse(page.text.contains("<script>"), "no inline script: the policy would block it")
            XCTAssertFalse(page.text.contains("style="), "no inline style: the policy would block it")
            XCTAssertFalse(page.text.contains("http://") || page.text.contains("https://"), "nothing from elsewhere")

            for (file, type) in [("app.js", "text/javascript; charset=utf-8"), ("diagram.js", "text/javascript; charset=utf-8"),
                                 ("app.css", "text/css; charset=utf-8"), ("favicon.svg", "image/svg+xml")] {
                let answer = try await client.call(.get, "/ui/\(file)")
                XCTAssertEqual(answer.status, .ok, file)
                XCTAssertEqual(answer.headers[.contentType], type, file)
                XCTAssertNotNil(answer.headers[.contentSecurityPolicy], file)
            }
            let script = try await client.call(.get, "/ui/app.js")
            for risky in ["innerHTML", "outerHTML", "insertAdjacentHTML", "eval(", "document.write"] {
                XCTAssertFalse(script.text.contains(risky), "app.js must insert data as text, found \(risky)")
            }
            XCTAssertTrue(script.text.contains(#"new URL("../v1/", location.href)"#), "API URLs are relative to the page")

            let missing = try await client.call(.get, "/ui/secrets.txt")
            XCTAssertEqual(missing.status, .notFound)
            let escape = try await client.call(.get, "/ui/..%2FPackage.swift")
            XCTAssertEqual(escape.status, .notFound)

            let bare = try await client.call(.get, "/ui")
            XCTAssertEqual(bare.status, .movedPermanently)
            XCTAssertEqual(bare.headers[.location], "ui/", "relative, so it works behind a path prefix")
        }
    }

    func testTheDashboardFilesNeedNoTokenButItsDataDoes() async throws {
        var settings = APISettings()
        settings.requireTokens = true
        try await Fixture(settings: settings).test { client in
            let page = try await client.call(.get, "/ui/")
            XCTAssertEqual(page.status, .ok)
            let script = try await client.call(.get, "/ui/app.js")
            XCTAssertEqual(script.status, .ok)
            let stats = try await client.call(.get, "/v1/stats")
            XCTAssertEqual(stats.status, .unauthorized)
        }
    }

    func testMissingDashboardFilesAnswerWhereTheyWereLookedFor() throws {
        let files = DashboardFiles(directories: [URL(fileURLWithPath: "/nonexistent/Dashboard")])
        XCTAssertThrowsError(try files.response(for: "")) { error in
            let apiError = error as? APIError
            XCTAssertEqual(apiError?.code, "dashboard_missing")
            XCTAssertTrue(apiError?.message.contains("/nonexistent/Dashboard") ?? false)
        }
    }
}

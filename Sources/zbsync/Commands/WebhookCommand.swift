import Foundation

/// `zbsync webhook`: the CGI program (RFC 3875) a web server runs per BigCommerce delivery. Verifies it
/// and stores `(delivery id, scope, entity id)` in the inbox. Never waits on the run lock.
struct WebhookCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook",
        abstract: "CGI program: verify a BigCommerce webhook delivery and store it in the inbox.",
        discussion: """
        Run by a web server that terminates TLS (nginx with fcgiwrap, Apache, Caddy), with ZBSYNC_HOME set in
        its CGI configuration. Reads the body from stdin and headers from HTTP_* variables; answers 200 once
        the delivery is stored, 401 when it cannot be verified (see webhooks.verify).
        """
    )

    init(from arguments: ParsedArguments) {}

    func run(_ context: AppContext) async throws -> ExitCode {
        throw CommandUnavailable(command: "zbsync webhook")
    }
}

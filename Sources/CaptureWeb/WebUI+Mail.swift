import Foundation
import GmailCapture
import HTTPTypes
import Hummingbird
import NIOCore

/// Captured HTML mail, which is hostile: sanitised and served as its own document for an `<iframe sandbox>`.
enum MailDocument {
    /// The sandbox the thread page gives a body frame: popups (links open in a new tab) and nothing else:
    /// no scripts, no same origin, no forms, no top navigation.
    static let sandbox = "allow-popups allow-popups-to-escape-sandbox"

    static func sanitize(
        html: String, inline: @escaping @Sendable (String) -> String?, link: @escaping @Sendable (String) -> String?, remoteImages: Bool
    ) -> HTMLSanitizer.Result {
        HTMLSanitizer(options: .init(inlineImage: inline, link: link, allowRemoteImages: remoteImages)).sanitize(html)
    }

    /// A complete document around a sanitised fragment.
    static func document(_ fragment: String) -> String {
        """
        <!doctype html>
        <html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
        <style>body{margin:8px;font:14px/1.45 system-ui,sans-serif;color:#1d2430;word-wrap:break-word}img{max-width:100%;height:auto}</style>
        </head><body>
        \(fragment)
        </body></html>
        """
    }
}

extension WebUI {
    static let inlineImageLifetime: TimeInterval = 3600
    static let linkLifetime: TimeInterval = 7 * 86_400
    static let inlineImageTypes: Set<String> = ["image/png", "image/jpeg", "image/gif", "image/webp"]

    /// `scheme://host` of the request, for the body's CSP (a sandboxed document has an opaque origin, so
    /// its image source is named by the server's own origin and the inline route's path).
    func origin(_ request: Request) -> String {
        let secure = options.secureCookies || request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https"
        return (secure ? "https://" : "http://") + Self.safeAuthority(request.head.authority)
    }

    /// The request's host and port when they are only host characters (it goes into a CSP header and
    /// URLs), else `localhost`: a Host header with `;` or spaces could otherwise add CSP directives.
    static func safeAuthority(_ authority: String?) -> String {
        guard let a = authority, !a.isEmpty, a.count <= 255,
            a.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || ".-:[]".unicodeScalars.contains($0)) })
        else { return "localhost" }
        return a
    }

    /// `/messages/{id}/body`: the sanitised HTML document of one message the viewer may read in full
    /// (signed-in; a message not visible in full answers like one that does not exist). `?images=remote`
    /// is the viewer's per-message opt-in to remote images.
    func messageBody(_ idText: String?, _ request: Request) async throws -> Response {
        let notFound = Response(
            status: .notFound, headers: [.contentType: "text/plain; charset=utf-8", Self.nosniff: "nosniff", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: "not found")))
        guard enabled, let t = idText, let id = Int64(t), let s = try await signedIn(request) else { return notFound }
        let viewer = viewerOf(s)
        guard let found = try await readModel.message(emailId: id, for: viewer, surface: .ui), found.message.visibility == .full else {
            return notFound
        }
        let remote = request.uri.queryParameters.get("images") == "remote"
        let parts = try await readModel.inlineParts(emailId: id, for: viewer)
        let expires = Int64(clock.now().addingTimeInterval(Self.inlineImageLifetime).timeIntervalSince1970)
        let linkExpires = Int64(clock.now().addingTimeInterval(Self.linkLifetime).timeIntervalSince1970)
        let signer = self.signer
        let user = s.user.id
        let origin = origin(request)
        let html = found.message.htmlBody ?? ""
        let result = MailDocument.sanitize(
            html: html,
            inline: { cid in
                guard let part = parts[cid] else { return nil }
                let sig = signer.signature(["inline", String(id), String(part), user], expires: expires)
                return "\(origin)/messages/\(id)/inline/\(part)?u=\(WebUI.queryValue(user))&exp=\(expires)&sig=\(sig)"
            },
            link: { url in
                let sig = signer.signature(["link", url], expires: linkExpires)
                return "\(origin)/link?u=\(WebUI.queryValue(url))&exp=\(linkExpires)&sig=\(sig)"
            }, remoteImages: remote)
        let imageSources = "data: \(origin)/messages/\(id)/inline/" + (remote ? " https: http:" : "")
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/html; charset=utf-8",
                Self.cspName: "default-src 'none'; style-src 'unsafe-inline'; img-src \(imageSources)",
                Self.nosniff: "nosniff", Self.referrerPolicy: "no-referrer", .cacheControl: "no-store", Self.frameOptions: "SAMEORIGIN",
            ], body: .init(byteBuffer: ByteBuffer(string: MailDocument.document(result.html))))
    }

    /// `/messages/{id}/inline/{part}?u=&exp=&sig=`: an inline image of a message, for its sandboxed frame
    /// (which sends no cookie): the signature names the message, the part, the viewer and the expiry, and
    /// the viewer must still be able to read the message in full.
    func inlineImage(_ idText: String?, _ partText: String?, _ request: Request) async throws -> Response {
        let notFound = Response(status: .notFound, headers: [Self.nosniff: "nosniff", .cacheControl: "no-store"])
        let q = request.uri.queryParameters
        guard enabled, let t = idText, let id = Int64(t), let p = partText, let part = Int64(p), let user = q.get("u"),
            let exp = q.get("exp").flatMap({ Int64($0) }), let sig = q.get("sig"),
            signer.verify(["inline", String(id), String(part), user], expires: exp, signature: sig, now: clock.now()),
            let u = try await directory.users().first(where: { $0.id == user }), u.active,
            let row = try await readModel.attachment(id: part, for: .teammate(u.email)), row.emailId == id, row.state == .stored,
            let sha = row.sha256
        else { return notFound }
        let type = EmailRoutes.servedType(row.mimeType)
        guard Self.inlineImageTypes.contains(type) else { return notFound }
        return Response(
            status: .ok,
            headers: [
                .contentType: type, Self.nosniff: "nosniff", Self.cspName: "default-src 'none'; sandbox",
                .cacheControl: "private, max-age=600",
            ], body: .init(byteBuffer: ByteBuffer(bytes: try attachments.get(sha256: sha))))
    }

    /// `/attachments/{id}`: a download for the signed-in viewer (message visible in full), served as the
    /// JSON API serves it: inert types only, as an attachment, sandboxed.
    func attachment(_ idText: String?, _ s: WebSessions.SignedIn) async throws -> Response {
        guard let t = idText, let id = Int64(t), let row = try await readModel.attachment(id: id, for: viewerOf(s)) else {
            throw PageError.notFound
        }
        guard row.state == .stored, let sha = row.sha256 else {
            throw PageError(status: .notFound, message: "This attachment is \(row.state.rawValue), not stored yet.")
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: EmailRoutes.servedType(row.mimeType),
                .contentDisposition: EmailRoutes.contentDisposition(filename: row.filename),
                Self.nosniff: "nosniff", Self.cspName: "sandbox", .cacheControl: "private, no-store",
            ], body: .init(byteBuffer: ByteBuffer(bytes: try attachments.get(sha256: sha))))
    }

    struct LinkPage {
        var url: String
        var host: String
    }

    /// `/link?u=&exp=&sig=`: where a link in a body leads, shown before anyone goes there. It needs no
    /// session (a tab opened from a sandboxed frame carries no cookie) and shows nothing but the
    /// destination; only URLs the body route signed are shown.
    func linkWarning(_ request: Request) async throws -> Response {
        let q = request.uri.queryParameters
        guard let url = q.get("u"), let exp = q.get("exp").flatMap({ Int64($0) }), let sig = q.get("sig"),
            signer.verify(["link", url], expires: exp, signature: sig, now: clock.now()),
            let scheme = URLComponents(string: url)?.scheme?.lowercased(), ["http", "https", "mailto"].contains(scheme)
        else {
            return Response(
                status: .notFound, headers: [.contentType: "text/plain; charset=utf-8", Self.nosniff: "nosniff"],
                body: .init(byteBuffer: ByteBuffer(string: "This link has expired or was not made by this server.")))
        }
        let host = URLComponents(string: url)?.host.map { "The site is \($0). " } ?? ""
        return render("link", LinkPage(url: url, host: host), headers: [Self.referrerPolicy: "no-referrer"])
    }
}

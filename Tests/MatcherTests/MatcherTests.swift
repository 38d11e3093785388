import GmailCapture
import CaptureParsing
import Testing

@Suite struct AddressNormalizationTests {
    @Test(arguments: [
        ("Maya.Chen@Lumen.Example", "maya.chen@lumen.example"),
        ("j.o.h.n+deals@gmail.com", "john@gmail.com"),
        ("John.Smith@GoogleMail.com", "johnsmith@gmail.com"),
        ("ana+vc@outlook.com", "ana@outlook.com"),
        ("ana+vc@lumen.example", "ana+vc@lumen.example"),  // unknown provider: a +tag may be a real mailbox
        ("first.last@icloud.com", "first.last@icloud.com"),
        ("not-an-address", nil),
        ("@nolocal.example", nil),
    ])
    func canonical(_ input: String, _ expected: String?) {
        #expect(AddressNormalizer.canonical(input) == expected)
    }

    @Test func publicProviderListIsBroad() {
        #expect(PublicMailProviders.domains.count >= 30)
        for d in ["gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me"] { #expect(PublicMailProviders.contains(d)) }
    }
}

@Suite struct InvestorMatcherTests {
    static let investors = [
        Investor(
            id: "inv-lumen", name: "Maya Chen (Lumenridge)", emails: ["maya.chen@lumenridge.example", "maya@lumenridge.vc"],
            domains: ["lumenridge.example"]),
        Investor(id: "inv-lumen-2", name: "Omar (Lumenridge)", emails: ["omar@lumenridge.example"], domains: ["lumenridge.example"]),
        Investor(id: "inv-angel", name: "Pat Angel", emails: ["pat.angel@gmail.com"], domains: ["gmail.com"]),
        Investor(id: "inv-quill", name: "Quillstone", emails: [], domains: ["quillstone.example"]),
        Investor(id: "inv-self", name: "Misconfigured", emails: ["x@elsewhere.example"], domains: ["firm.example"]),
    ]
    static let index = InvestorIndex(investors: investors, workspaceDomain: "firm.example")

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var participants: [String]
        var expected: [(String, MatchRule)]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "exact primary", participants: ["alex@firm.example", "Maya.Chen@lumenridge.example"], expected: [("inv-lumen", .exact)]),
        Case(name: "alias", participants: ["alex@firm.example", "maya@lumenridge.vc"], expected: [("inv-lumen", .alias)]),
        Case(name: "gmail dots and +tag", participants: ["p.a.t.angel+crm@googlemail.com"], expected: [("inv-angel", .exact)]),
        Case(
            name: "freemail guard: another gmail user links nobody", participants: ["someone.else@gmail.com", "alex@firm.example"],
            expected: []),
        Case(
            name: "domain fallback links every investor of the firm",
            participants: ["analyst@lumenridge.example"], expected: [("inv-lumen", .domain), ("inv-lumen-2", .domain)]),
        Case(
            name: "exact wins over domain for that participant only",
            participants: ["omar@lumenridge.example"], expected: [("inv-lumen-2", .exact)]),
        Case(name: "subdomain matches the firm", participants: ["ir@mail.quillstone.example"], expected: [("inv-quill", .domain)]),
        Case(name: "look-alike domain does not", participants: ["ir@notquillstone.example"], expected: []),
        Case(name: "internal-only mail links nothing", participants: ["alex@firm.example", "sam@eu.firm.example"], expected: []),
        Case(
            name: "workspace domain listed by an investor is ignored", participants: ["ops@firm.example", "x@other.example"], expected: []),
        // Maya's exact match links her investor only, not her colleague's; Quillstone has no addresses, so its domain links.
        Case(
            name: "several investors on one message",
            participants: ["maya.chen@lumenridge.example", "pat.angel@gmail.com", "ir@quillstone.example"],
            expected: [("inv-angel", .exact), ("inv-lumen", .exact), ("inv-quill", .domain)]),
        Case(name: "garbage addresses are skipped", participants: ["undisclosed-recipients", ""], expected: []),
    ]

    @Test(arguments: cases)
    func links(_ c: Case) {
        let got = Self.index.links(for: c.participants).map { ($0.investorId, $0.rule) }
        #expect(got.map(\.0) == c.expected.map(\.0))
        #expect(got.map(\.1) == c.expected.map(\.1))
    }

    @Test func confidenceFollowsTheRule() {
        let links = Self.index.links(for: ["maya.chen@lumenridge.example", "analyst@quillstone.example"])
        #expect(links.first { $0.investorId == "inv-lumen" }?.confidence == 1.0)
        #expect(links.first { $0.investorId == "inv-quill" }?.confidence == 0.7)
        #expect(links.first { $0.investorId == "inv-lumen" }?.address == "maya.chen@lumenridge.example")
    }

    @Test func importWarnsAboutPublicAndWorkspaceDomains() {
        let w = Self.index.warnings
        #expect(w.contains { $0.contains("inv-angel") && $0.contains("public mail provider") })
        #expect(w.contains { $0.contains("inv-self") && $0.contains("workspace domain") })
    }

    @Test func rematchAfterAddingAnInvestorLinksOldMail() {
        let participants = ["gp@newfund.example", "alex@firm.example"]
        #expect(Self.index.links(for: participants).isEmpty)
        let updated = InvestorIndex(
            investors: Self.investors + [Investor(id: "inv-new", name: "New Fund", domains: ["newfund.example"])],
            workspaceDomain: "firm.example")
        #expect(updated.links(for: participants).map(\.investorId) == ["inv-new"])
    }
}

"""gmail/: messages as real clients write them (Gmail web, Outlook, Apple Mail, Google Calendar, MTA bounces),
as they arrive in a Gmail mailbox."""

import base64

from .common import (D, ME, RCPT, TO_ME, addr, att, b64, emit, fake_pdf, fake_png, file_part, gmail_boundary,
                     gmail_msgid, hexid, multipart, outlook_boundary, outlook_fields, outlook_msgid, apple_boundary,
                     apple_msgid, part, qp, text_part)

# 100 ----------------------------------------------------------------------------------------------
_prev = gmail_msgid("100prev")
_pdf100 = fake_pdf("Term Sheet", pages=2, pad=4000)
_b100 = gmail_boundary("100")
_a100 = gmail_boundary("100alt")
_att_id = "f_lt9x3k2a0"
_plain100 = ("Hi Alex,\n\nAttached is the signed term sheet. Congratulations to the whole team!\n\nBest,\nMaya\n\n"
             "On Mon, Mar 4, 2024 at 6:12 PM Alex Morgan <alex.morgan@example.com> wrote:\n\n"
             "> Thanks Maya, we're ready to sign.\n>\n")
_html100 = ('<div dir="ltr">Hi Alex,<div><br></div><div>Attached is the signed term sheet. Congratulations to the '
            'whole team!</div><div><br></div><div>Best,</div><div>Maya</div></div><br><div class="gmail_quote">'
            '<div dir="ltr" class="gmail_attr">On Mon, Mar 4, 2024 at 6:12 PM Alex Morgan &lt;<a href="mailto:'
            'alex.morgan@example.com">alex.morgan@example.com</a>&gt; wrote:<br></div><blockquote class="gmail_quote" '
            'style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">'
            '<div dir="ltr">Thanks Maya, we&#39;re ready to sign.<br></div></blockquote></div>\n')
_p100, _e100 = file_part(_pdf100, "application/pdf", "Term Sheet.pdf", cid=_att_id, extra=[f"X-Attachment-Id: {_att_id}"])
emit("gmail", 100, "gmail-web-reply-attachment",
     "Gmail web client reply: boundary 000000000000+hex, multipart/mixed > multipart/alternative (text/plain + "
     "QP text/html with gmail_quote), PDF attachment with Content-ID and X-Attachment-Id",
     "100", D(2024, 3, 5, 9, 4, 0, -480), "Maya Chen <maya.chen@lumenridge.example.com>",
     addr("Maya Chen", "maya.chen@lumenridge.example.com"), "Re: Term sheet", f'multipart/mixed; boundary="{_b100}"',
     multipart(_b100, [part([f'Content-Type: multipart/alternative; boundary="{_a100}"'],
                            multipart(_a100, [text_part(_plain100),
                                              text_part(_html100, subtype="html", cte="quoted-printable")])),
                       _p100]),
     pre=[f"References: <{_prev}>", f"In-Reply-To: <{_prev}>"], sender_domain="lumenridge.example.com",
     more={"inReplyTo": _prev, "references": [_prev],
           "textBodyContains": ["Attached is the signed term sheet. Congratulations to the whole team!",
                                "> Thanks Maya, we're ready to sign."],
           "htmlBodyContains": ['<div class="gmail_quote">', "Thanks Maya, we&#39;re ready to sign."],
           "attachments": [_e100]})

# 101 ----------------------------------------------------------------------------------------------
_png101 = fake_png(120, 40, "101")
_cid101 = "image001.png@01DA7461.5C3E4A10"
_rel = outlook_boundary("101", 4)
_altb = outlook_boundary("101", 0)
_plain101 = ("Hi Alex,\n\nGreat meeting you at the summit. As promised, here\u2019s a short note on Harborlight\u2019s "
             "thesis.\n\nBest regards,\nKlaus\n\n[Harborlight logo]\n\nKlaus Weber | General Partner\n"
             "Harborlight Partners\n")
_html101 = """<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:w="urn:schemas-microsoft-com:office:word" xmlns:m="http://schemas.microsoft.com/office/2004/12/omml" xmlns="http://www.w3.org/TR/REC-html40">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<meta name="Generator" content="Microsoft Word 15 (filtered medium)">
<!--[if !mso]><style>v\\:* {behavior:url(#default#VML);}
o\\:* {behavior:url(#default#VML);}
w\\:* {behavior:url(#default#VML);}
.shape {behavior:url(#default#VML);}
</style><![endif]--><style><!--
/* Font Definitions */
@font-face
\t{font-family:"Cambria Math";
\tpanose-1:2 4 5 3 5 4 6 3 2 4;}
@font-face
\t{font-family:Calibri;
\tpanose-1:2 15 5 2 2 2 4 3 2 4;}
/* Style Definitions */
p.MsoNormal, li.MsoNormal, div.MsoNormal
\t{margin:0cm;
\tfont-size:11.0pt;
\tfont-family:"Calibri",sans-serif;
\tmso-ligatures:standardcontextual;
\tmso-fareast-language:EN-US;}
span.EmailStyle17
\t{mso-style-type:personal-compose;
\tfont-family:"Calibri",sans-serif;
\tcolor:windowtext;}
.MsoChpDefault
\t{mso-style-type:export-only;
\tfont-size:10.0pt;}
@page WordSection1
\t{size:612.0pt 792.0pt;
\tmargin:72.0pt 72.0pt 72.0pt 72.0pt;}
div.WordSection1
\t{page:WordSection1;}
--></style><!--[if gte mso 9]><xml>
<o:shapedefaults v:ext="edit" spidmax="1026" />
</xml><![endif]--><!--[if gte mso 9]><xml>
<o:shapelayout v:ext="edit">
<o:idmap v:ext="edit" data="1" />
</o:shapelayout></xml><![endif]-->
</head>
<body lang="EN-US" link="#0563C1" vlink="#954F72" style="word-wrap:break-word">
<div class="WordSection1">
<p class="MsoNormal"><span lang="DE">Hi Alex,<o:p></o:p></span></p>
<p class="MsoNormal"><o:p>&nbsp;</o:p></p>
<p class="MsoNormal">Great meeting you at the summit. As promised, here\u2019s a short note on Harborlight\u2019s thesis.<o:p></o:p></p>
<p class="MsoNormal"><o:p>&nbsp;</o:p></p>
<p class="MsoNormal">Best regards,<o:p></o:p></p>
<p class="MsoNormal">Klaus<o:p></o:p></p>
<p class="MsoNormal"><img width="120" height="40" style="width:1.25in;height:.4166in" id="Picture_x0020_1" src="cid:image001.png@01DA7461.5C3E4A10" alt="Harborlight logo"><o:p></o:p></p>
<p class="MsoNormal"><b><span style="font-size:9.0pt">Klaus Weber</span></b><span style="font-size:9.0pt"> | General Partner<o:p></o:p></span></p>
</div>
</body>
</html>
"""
_img101 = part(['Content-Type: image/png; name="image001.png"', "Content-Description: image001.png",
                f'Content-Disposition: inline; filename="image001.png"; size={len(_png101)};\n'
                '\tcreation-date="Tue, 12 Mar 2024 09:15:02 GMT";\n\tmodification-date="Tue, 12 Mar 2024 09:15:02 GMT"',
                f"Content-ID: <{_cid101}>", "Content-Transfer-Encoding: base64"], b64(_png101))
_alt101 = multipart(_altb, [text_part(_plain101, charset="utf-8", cte="quoted-printable"),
                            text_part(_html101, subtype="html", charset="utf-8", cte="quoted-printable")])
_mid101 = outlook_msgid("101")
emit("gmail", 101, "outlook-related-inline-image",
     "Outlook / Exchange Online: multipart/related (type=multipart/alternative) > multipart/alternative + inline "
     "image001.png with Content-ID; Thread-Index, Thread-Topic, X-MS-Has-Attach; Word-generated HTML with MSO "
     "conditional comments",
     "101", D(2024, 3, 12, 9, 15, 3, 60), "Klaus Weber <klaus.weber@harborlight.example.com>",
     addr("Klaus Weber", "klaus.weber@harborlight.example.com"), "Harborlight thesis",
     f'multipart/related;\n\tboundary="{_rel}";\n\ttype="multipart/alternative"',
     multipart(_rel, [part([f'Content-Type: multipart/alternative;\n\tboundary="{_altb}"'], _alt101), _img101]),
     msgid=_mid101, sender_domain="harborlight.example.com", from_gmail=False,
     post=outlook_fields("101", "Harborlight thesis", False),
     more={"textBodyContains": ["Great meeting you at the summit. As promised, here\u2019s a short note on "
                                "Harborlight\u2019s thesis.", "Klaus Weber | General Partner"],
           "htmlBodyContains": ["<!--[if gte mso 9]>", f'src="cid:{_cid101}"', '<div class="WordSection1">'],
           "attachments": [att(_png101, "image/png", "image001.png", _cid101, True)]})

# 102 ----------------------------------------------------------------------------------------------
_png102 = fake_png(160, 90, "102")
_ba = apple_boundary("102a")
_bm = apple_boundary("102m")
_html_a = ('<html><head><meta http-equiv="content-type" content="text/html; charset=us-ascii"></head><body style='
           '"overflow-wrap: break-word; -webkit-nbsp-mode: space; line-break: after-white-space;">Hi Alex,<div><br>'
           '</div><div>Here is the chart from today.</div><div><br></div><div></div></body></html>')
_html_b = ('<html><head><meta http-equiv="content-type" content="text/html; charset=us-ascii"></head><body style='
           '"overflow-wrap: break-word; -webkit-nbsp-mode: space; line-break: after-white-space;"><div></div><div>'
           '<br></div><div>After the chart: the numbers look good.</div><div><br></div><div>Ingrid</div></body></html>')
_apple_img = part(["Content-Disposition: inline;\n\tfilename=chart.png",
                   'Content-Type: image/png;\n\tx-unix-mode=0644;\n\tname="chart.png"',
                   "Content-Transfer-Encoding: base64"], b64(_png102))
_mixed102 = multipart(_bm, [part(["Content-Transfer-Encoding: 7bit", "Content-Type: text/html;\n\tcharset=us-ascii"],
                                 _html_a + "\n"),
                            _apple_img,
                            part(["Content-Transfer-Encoding: 7bit", "Content-Type: text/html;\n\tcharset=us-ascii"],
                                 _html_b + "\n")])
_alt102 = multipart(_ba, [
    part(["Content-Transfer-Encoding: 7bit", "Content-Type: text/plain;\n\tcharset=us-ascii"],
         "Hi Alex,\n\nHere is the chart from today.\n\n\n\nAfter the chart: the numbers look good.\n\nIngrid\n"),
    part([f'Content-Type: multipart/mixed;\n\tboundary="{_bm}"'], _mixed102)])
emit("gmail", 102, "apple-mail-inline-image",
     "Apple Mail: Apple-Mail= boundaries, multipart/alternative > text/plain + multipart/mixed (text/html, inline "
     "image with x-unix-mode and unquoted filename, more text/html); Mime-Version with an escaped-paren comment",
     "102", D(2024, 4, 9, 17, 41, 22, 120), "Ingrid Berg <ingrid@fjordpeak.example.org>",
     addr("Ingrid Berg", "ingrid@fjordpeak.example.org"), "Chart from today",
     f'multipart/alternative;\n\tboundary="{_ba}"',
     _alt102, msgid=apple_msgid("102"), sender_domain="fjordpeak.example.org", from_gmail=False,
     post=["X-Mailer: Apple Mail (2.3774.500.171.1.1)"],
     mime_version="Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3774.500.171.1.1\\))",
     more={"textBodyContains": ["Here is the chart from today.", "After the chart: the numbers look good."],
           "htmlBodyContains": ["<div>Here is the chart from today.</div>"],
           "attachments": [att(_png102, "image/png", "chart.png", None, True)]})

# 103 ----------------------------------------------------------------------------------------------
_uid = f"{hexid('uid103', 26)}@calendar.example.com"
_ics = f"""BEGIN:VCALENDAR
PRODID:-//Google Inc//Google Calendar 70.9054//EN
VERSION:2.0
CALSCALE:GREGORIAN
METHOD:REQUEST
BEGIN:VEVENT
DTSTART:20240312T170000Z
DTEND:20240312T173000Z
DTSTAMP:20240305T170400Z
ORGANIZER;CN=Maya Chen:mailto:maya.chen@lumenridge.example.com
UID:{_uid}
ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=
 TRUE;CN=alex.morgan@example.com;X-NUM-GUESTS=0:mailto:alex.morgan@example.com
ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;RSVP=TRUE
 ;CN=Maya Chen;X-NUM-GUESTS=0:mailto:maya.chen@lumenridge.example.com
X-MICROSOFT-CDO-OWNERAPPTID:-1543822109
CREATED:20240305T170351Z
DESCRIPTION:Intro call between Lumen Ridge Capital and the Acme Robotics fou
 nders.\\n\\nJoin: https://meet.example.com/abc-defg-hij
LAST-MODIFIED:20240305T170351Z
LOCATION:https://meet.example.com/abc-defg-hij
SEQUENCE:0
STATUS:CONFIRMED
SUMMARY:Lumen Ridge <> Acme intro
TRANSP:OPAQUE
BEGIN:VALARM
ACTION:DISPLAY
DESCRIPTION:This is an event reminder
TRIGGER:-P0DT0H10M0S
END:VALARM
END:VEVENT
END:VCALENDAR
"""
_ics_crlf = _ics.replace("\n", "\r\n").encode("utf-8")
_b103 = gmail_boundary("103")
_a103 = gmail_boundary("103alt")
_subj103 = ("Invitation: Lumen Ridge <> Acme intro @ Tue Mar 12, 2024 10am - 10:30am (PDT) "
            "(alex.morgan@example.com)")
_plain103 = ("Lumen Ridge <> Acme intro\nTuesday Mar 12, 2024 \u22c5 10am \u2013 10:30am\n"
             "Pacific Time - Los Angeles\n\nJoin the meeting: https://meet.example.com/abc-defg-hij\n\n"
             "Organizer\nMaya Chen\nmaya.chen@lumenridge.example.com\n\nReply for alex.morgan@example.com\n")
_html103 = ('<span itemscope itemtype="http://schema.org/InformAction"><span itemprop="object" itemscope '
            'itemtype="http://schema.org/Event"><meta itemprop="eventStatus" content="http://schema.org/EventScheduled"/>'
            '<table border="0" cellpadding="0" cellspacing="0" role="presentation"><tr><td><h2 itemprop="name">'
            'Lumen Ridge &lt;&gt; Acme intro</h2></td></tr><tr><td><span>Tuesday Mar 12, 2024 \u22c5 10am \u2013 10:30am'
            '</span></td></tr><tr><td><a href="https://meet.example.com/abc-defg-hij">Join the meeting</a></td></tr>'
            '</table></span></span>\n')
_ics_part = part(['Content-Type: text/calendar; charset="UTF-8"; method=REQUEST', "Content-Transfer-Encoding: 7bit"],
                 _ics)
_inv, _inv_e = file_part(_ics_crlf, "application/ics", "invite.ics")
emit("gmail", 103, "google-calendar-invite",
     "Google Calendar invitation: multipart/mixed > multipart/alternative (text/plain base64 format=flowed, text/html, "
     "text/calendar method=REQUEST) + application/ics attachment invite.ics; Sender and Reply-To fields",
     "103", D(2024, 3, 5, 9, 4, 1, -480), "Maya Chen <maya.chen@lumenridge.example.com>",
     addr("Maya Chen", "maya.chen@lumenridge.example.com"), _subj103, f'multipart/mixed; boundary="{_b103}"',
     multipart(_b103, [part([f'Content-Type: multipart/alternative; boundary="{_a103}"'],
                            multipart(_a103, [
                                part(['Content-Type: text/plain; charset="UTF-8"; format=flowed; delsp=yes',
                                      "Content-Transfer-Encoding: base64"], b64(_plain103.encode("utf-8"))),
                                text_part(_html103, subtype="html", cte="quoted-printable"),
                                _ics_part])),
                       _inv]),
     sender_domain="lumenridge.example.com",
     post=["Reply-To: Maya Chen <maya.chen@lumenridge.example.com>",
           "Sender: Calendar <calendar-notification@calendar.example.com>"],
     more={"replyTo": [addr("Maya Chen", "maya.chen@lumenridge.example.com")],
           "textBodyContains": ["Lumen Ridge <> Acme intro", "Join the meeting: https://meet.example.com/abc-defg-hij"],
           "textBodyAbsent": ["BEGIN:VCALENDAR"],
           "htmlBodyContains": ["Lumen Ridge &lt;&gt; Acme intro"],
           "attachments": [_inv_e], "calendar": True})

# 104 ----------------------------------------------------------------------------------------------
_orig_mid = gmail_msgid("104orig")
_b104 = gmail_boundary("104")
_d104 = D(2024, 3, 6, 11, 0, 5, 0)
_dsn = f"""Reporting-MTA: dns; mail.example.com
Received-From-MTA: dns; mail-sor-f41.example.com
Arrival-Date: Wed, 6 Mar 2024 11:00:02 +0000

Final-Recipient: rfc822; nobody@startup.example.com
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.startup.example.com. (192.0.2.10, the server for the domain startup.example.com.)
Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach does not exist.
Last-Attempt-Date: Wed, 6 Mar 2024 11:00:05 +0000
"""
_rfc822_headers = f"""Return-Path: <alex.morgan@example.com>
Received: from mail-sor-f41.example.com (mail-sor-f41.example.com. [198.51.100.41])
        by mail.example.com with SMTPS id a1b2c3d4e5f6.2024.03.06.11.00.02
        for <nobody@startup.example.com>; Wed, 06 Mar 2024 11:00:02 +0000
MIME-Version: 1.0
From: Alex Morgan <alex.morgan@example.com>
Date: Wed, 6 Mar 2024 11:00:01 +0000
Message-ID: <{_orig_mid}>
Subject: Following up on our call
To: nobody@startup.example.com
Content-Type: multipart/alternative; boundary="{gmail_boundary('104orig')}"
"""
emit("gmail", 104, "bounce-delivery-status",
     "Delivery status notification: multipart/report; report-type=delivery-status with a human-readable text/plain, "
     "message/delivery-status (not an attachment) and text/rfc822-headers (listed as an attachment)",
     "104", _d104, "Mail Delivery Subsystem <mailer-daemon@mail.example.com>",
     addr("Mail Delivery Subsystem", "mailer-daemon@mail.example.com"), "Delivery Status Notification (Failure)",
     f'multipart/report; boundary="{_b104}"; report-type=delivery-status',
     multipart(_b104, [
         text_part("\n** Address not found **\n\nYour message wasn't delivered to nobody@startup.example.com because "
                   "the address couldn't be found, or is unable to receive mail.\n\nThe response from the remote "
                   "server was:\n550 5.1.1 The email account that you tried to reach does not exist.\n",
                   cte="quoted-printable"),
         part(["Content-Type: message/delivery-status"], _dsn),
         part(["Content-Type: text/rfc822-headers", "Content-Description: Undelivered Message Headers"],
              _rfc822_headers)]),
     sender_domain="mail.example.com", to="alex.morgan@example.com", to_e=[addr(None, RCPT)],
     pre=[f"References: <{_orig_mid}>", f"In-Reply-To: <{_orig_mid}>"], post=["Auto-Submitted: auto-replied"],
     more={"inReplyTo": _orig_mid, "references": [_orig_mid],
           "textBodyContains": ["** Address not found **",
                                "550 5.1.1 The email account that you tried to reach does not exist."],
           "textBodyAbsent": ["Reporting-MTA", "Following up on our call"], "htmlBody": None,
           "attachments": [att(None, "text/rfc822-headers")]})

# 105 ----------------------------------------------------------------------------------------------
_b105 = gmail_boundary("105")
_plain105 = ("FYI, see below.\n\n---------- Forwarded message ---------\nFrom: Founder <founder@startup.example.com>\n"
             "Date: Thu, Mar 7, 2024 at 9:12 AM\nSubject: Monthly update\nTo: Maya Chen <maya.chen@lumenridge.example.com>"
             "\n\n\nRevenue grew 18% month over month.\n")
_html105 = ('<div dir="ltr">FYI, see below.<br><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">'
            '---------- Forwarded message ---------<br>From: <strong class="gmail_sendername" dir="auto">Founder'
            '</strong> <span dir="auto">&lt;<a href="mailto:founder@startup.example.com">founder@startup.example.com'
            '</a>&gt;</span><br>Date: Thu, Mar 7, 2024 at 9:12 AM<br>Subject: Monthly update<br></div><br><br>'
            '<div dir="ltr">Revenue grew 18% month over month.</div></div></div>\n')
emit("gmail", 105, "gmail-inline-forward",
     "Gmail inline forward (\"---------- Forwarded message ---------\" quoted in the body, no message/rfc822): "
     "multipart/alternative, Cc to a colleague",
     "105", D(2024, 3, 7, 10, 30, 0, -480), "Maya Chen <maya.chen@lumenridge.example.com>",
     addr("Maya Chen", "maya.chen@lumenridge.example.com"), "Fwd: Monthly update",
     f'multipart/alternative; boundary="{_b105}"',
     multipart(_b105, [text_part(_plain105), text_part(_html105, subtype="html", cte="quoted-printable")]),
     cc="Ana Sousa <ana.sousa@cobaltmesa.example.com>", sender_domain="lumenridge.example.com",
     more={"cc": [addr("Ana Sousa", "ana.sousa@cobaltmesa.example.com")],
           "textBodyContains": ["---------- Forwarded message ---------", "Revenue grew 18% month over month."],
           "htmlBodyContains": ['<div class="gmail_quote">']})

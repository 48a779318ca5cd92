using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using FluxForensics.Capture;
using FluxForensics.Model;

namespace FluxForensics.Tests.Relay
{
    /// <summary>Checked against Zeek's and Suricata's own results for public traces (../shared/corpus/captures).</summary>
    public class RelayCorpusTests
    {
        private static string Need(string path)
        {
            Skip.If(Corpus.Root is null || !File.Exists(path), $"corpus file {path} not found (tests read ../shared/corpus beside the repository)");
            return path;
        }

        // The flow timeout (and with it how long an unpaired conversation is held) spans the whole trace (smtp.pcap runs from 2009 to 2015), so the tests can
        // look at every conversation after the end; otherwise the correlator reports and lets go of the old ones as it goes.
        private static RelayRun Run(string path, bool includeSecret = false, bool keepMailParts = false) =>
            RelayRun.FromPcap(path, new CaptureAnalysisOptions { IncludeSecret = includeSecret, KeepMailParts = keepMailParts, FlowTimeout = TimeSpan.FromDays(3650) });

        [SkippableFact]
        public void ZeekSmtpAccountEnvelopeAndMimeHashesMatchTheBaselines()
        {
            var run = Run(Need(Corpus.Zeek("Traces/smtp.pcap")), includeSecret: true, keepMailParts: true);
            var log = Corpus.ZeekLog(Corpus.Zeek("Baseline/scripts.base.protocols.smtp.basic/smtp.log"))[0];
            // The trace holds a second, unrelated session (the second row of the baseline): take the AUTH LOGIN one.
            var conversation = Assert.Single(run.Analyzer.Conversations, c => c.Smtp is not null && c.Client.ToString() == log["id.orig_h"]);
            var smtp = conversation.Smtp!;
            Assert.Equal(log["helo"], smtp.Helo);
            var transaction = Assert.Single(smtp.Transactions);
            Assert.Equal(log["mailfrom"], transaction.MailFrom);
            Assert.Equal(log["rcptto"].Split(','), transaction.Recipients);
            Assert.Equal(log["subject"], transaction.Message!.Subject);

            // AUTH LOGIN decoded: the MANIFEST names the base64 account; smtp-events.log shows it on the wire.
            var credential = Assert.Single(run.Of<ExposedCredential>());
            Assert.Equal("gurpartap@patriots.in", credential.Account);
            Assert.Equal("punjab@123", credential.Secret);
            Assert.True(credential.Accepted);

            // Zeek's file analysis: MD5 of each MIME entity of this connection.
            var baseline = File.ReadAllText(Corpus.Zeek("Baseline/scripts.base.frameworks.file-analysis.smtp/out"));
            var expectedMd5 = Regex.Matches(baseline, @"orig_h=10\.10\.1\.4[^\n]*\n(?:(?!FILE_NEW)[\s\S])*?MD5: ([0-9a-f]{32})")
                .Select(m => m.Groups[1].Value).ToArray();
            Assert.Equal(3, expectedMd5.Length);
            Assert.Equal(expectedMd5, transaction.Message.Parts.Select(p => p.Md5).ToArray());

            // Without being asked, the analysis reads the same message but keeps no part bytes.
            var lean = Run(Need(Corpus.Zeek("Traces/smtp.pcap")), includeSecret: true);
            var leanMessage = Assert.Single(Assert.Single(lean.Analyzer.Conversations, c => c.Smtp is not null && c.Client.ToString() == log["id.orig_h"]).Smtp!.Transactions).Message!;
            Assert.Equal(log["subject"], leanMessage.Subject);
            Assert.Equal(3, leanMessage.Parts.Count);
            Assert.All(leanMessage.Parts, p => Assert.Null(p.Md5));
        }

        [SkippableFact]
        public void ZeekFtpIpv4UserAndPasswordAsFtpLog()
        {
            var run = Run(Need(Corpus.Zeek("Traces/ftp/ipv4.pcap")), includeSecret: true);
            var log = Corpus.ZeekLog(Corpus.Zeek("Baseline/scripts.base.protocols.ftp.ftp-ipv4/ftp.log"));
            var credential = Assert.Single(run.Of<ExposedCredential>());
            Assert.Equal(log[0]["user"], credential.Account);
            Assert.Equal(log[0]["password"], credential.Secret);
            Assert.Equal(log[0]["id.orig_h"], credential.Client);
            Assert.Equal(log[0]["id.resp_h"], credential.Server);
            Assert.True(credential.Accepted);

            // Both RETRs of robots.txt (one passive, one active data connection) are carved, 77 bytes each.
            var files = run.Analyzer.CarvedFiles.Where(f => f.FileName?.EndsWith("robots.txt") == true).ToList();
            Assert.Equal(log.Count(r => r["command"] == "RETR"), files.Count);
            Assert.All(files, f => Assert.Equal(long.Parse(log.First(r => r["command"] == "RETR")["file_size"]), f.Size));
        }

        [SkippableFact]
        public void ZeekFtpPasswordIsHiddenByDefaultAndTheRefusalIsReported()
        {
            var path = Need(Corpus.Zeek("Traces/ftp/ftp-password-pass-command.pcap"));
            var hidden = Corpus.ZeekLog(Corpus.Zeek("Baseline/scripts.base.protocols.ftp.ftp-password-pass-command-hidden/ftp.log"));
            var shown = Corpus.ZeekLog(Corpus.Zeek("Baseline/scripts.base.protocols.ftp.ftp-password-pass-command/ftp.log"));

            var byDefault = Assert.Single(Run(path).Of<ExposedCredential>());
            Assert.Equal(hidden[1]["user"], byDefault.Account);
            Assert.Equal("<hidden>", hidden[1]["password"]);
            Assert.Equal(Redaction.Mask, byDefault.Secret);
            Assert.False(byDefault.Accepted);                       // 530 Login incorrect.
            Assert.Equal(hidden[1]["reply_code"] + " " + hidden[1]["reply_msg"], byDefault.Reply);

            var withSecret = Assert.Single(Run(path, includeSecret: true).Of<ExposedCredential>());
            Assert.Equal(shown[1]["password"], withSecret.Secret);
        }

        [SkippableFact]
        public void ZeekFtpRetrFileHashesAsTheFileAnalysisBaseline()
        {
            var run = Run(Need(Corpus.Zeek("Traces/ftp/retr.pcap")));
            var baseline = File.ReadAllText(Corpus.Zeek("Baseline/scripts.base.frameworks.file-analysis.ftp/out"));
            string md5 = Regex.Match(baseline, "MD5: ([0-9a-f]+)").Groups[1].Value;
            string sha256 = Regex.Match(baseline, "SHA256: ([0-9a-f]+)").Groups[1].Value;
            long size = long.Parse(Regex.Match(baseline, @"FILE_STATE_REMOVE\s+file #0, (\d+),").Groups[1].Value);
            var file = Assert.Single(run.Analyzer.CarvedFiles);
            Assert.Equal(size, file.Size);
            Assert.Equal(md5, file.Md5);
            Assert.Equal(sha256, file.Sha256);
        }

        [SkippableFact]
        public void ZeekPeOverFtpYieldsFourExecutables()
        {
            var run = Run(Need(Corpus.Zeek("Traces/pe/pe.pcap")));
            var peLog = Corpus.ZeekLog(Corpus.Zeek("Baseline/scripts.base.files.pe.basic/pe.log"));
            var downloads = run.Of<FluxDownload>().ToList();
            Assert.Equal(peLog.Count, downloads.Count);
            // MSVIDEO.DLL is a 16-bit NE image (Zeek: machine unknown): an MZ program without a PE header.
            Assert.All(downloads, d => Assert.Contains(d.FileType, new[] { "PE", "MZ" }));
            Assert.Equal(peLog.Count(r => r["machine"] == "I386"), downloads.Count(d => d.FileType == "PE"));
            Assert.All(downloads, d => Assert.Equal("Ftp", d.Protocol));
            Assert.All(downloads, d => Assert.Equal("anonymous", d.Account));
            Assert.Contains(downloads, d => d.FileName?.EndsWith("NOTEPAD.EXE", StringComparison.OrdinalIgnoreCase) == true);
        }

        [SkippableFact]
        public void SuricataBug4877FtpDataFilesHaveTheStatedHashes()
        {
            var run = Run(Need(Corpus.Suricata("bug-4877/input.pcap")));
            var yaml = File.ReadAllText(Corpus.Suricata("bug-4877/test.yaml"));
            var expected = Regex.Matches(yaml, @"fileinfo.filename: (\S+)\s+fileinfo.gaps: false\s+fileinfo.sha256: ([0-9a-f]+)\s+fileinfo.size: (\d+)")
                .Select(m => (Name: m.Groups[1].Value, Sha256: m.Groups[2].Value, Size: long.Parse(m.Groups[3].Value))).Distinct().ToList();
            Assert.Equal(2, expected.Count);
            foreach (var (name, sha256, size) in expected)
            {
                var carved = run.Analyzer.CarvedFiles.Where(f => f.FileName == name).ToList();
                Assert.Equal(2, carved.Count); // one STOR and one RETR of each
                Assert.All(carved, f => Assert.Equal(sha256, f.Sha256));
                Assert.All(carved, f => Assert.Equal(size, f.Size));
            }

            var notepad = run.Of<FluxDownload>().Where(d => d.FileName == "notepad.exe").ToList();
            Assert.Equal(2, notepad.Count);
            Assert.DoesNotContain(run.Of<FluxDownload>(), d => d.FileName == "test.pdf");
        }

        [SkippableFact]
        public void ZeekBasicAuthWithColonInThePassword()
        {
            var run = Run(Need(Corpus.Zeek("Traces/http/basic-auth-with-colon.pcap")), includeSecret: true);
            var log = Corpus.ZeekLog(Corpus.Zeek("Baseline/scripts.base.protocols.http.http-basic-auth-colon/http.log"))[0];
            var credential = Assert.Single(run.Of<ExposedCredential>());
            Assert.Equal("Http", credential.Protocol);
            Assert.Equal(log["username"], credential.Account);
            Assert.Equal(log["password"], credential.Secret);
            Assert.Equal(log["status_code"] == "200", credential.Accepted);
        }

        [SkippableFact]
        public void ZeekSpamThroughAnHttpConnectProxyIsAnSmtpRelaySession()
        {
            var run = Run(Need(Corpus.Zeek("Traces/http/connect-with-smtp.pcap")));
            var http = Corpus.ZeekLog(Corpus.Zeek("Baseline/scripts.base.protocols.http.http-connect/http.log"))[0];
            var smtp = Corpus.ZeekLog(Corpus.Zeek("Baseline/scripts.base.protocols.http.http-connect/smtp.log"))[0];
            var session = Assert.Single(run.Of<RelaySession>());
            Assert.Equal("Smtp", session.Protocol);
            Assert.Equal(http["id.orig_h"], session.Client);
            Assert.Equal(http["id.resp_h"], session.Relay);
            Assert.Equal(http["uri"].Split(' ')[0], $"{session.Server}:{session.ServerPort}");
            Assert.Equal(smtp["mailfrom"], session.MailFrom);
            Assert.Equal(smtp["rcptto"].Split(','), session.Recipients);
            Assert.Equal(new[] { smtp["subject"] }, session.Subjects);
            Assert.Contains("CONNECT", session.PairingEvidence);
            Assert.Contains(NetAddress.FromIPAddress(System.Net.IPAddress.Parse(http["id.resp_h"])), run.Analyzer.RelayHosts);
        }
    }
}

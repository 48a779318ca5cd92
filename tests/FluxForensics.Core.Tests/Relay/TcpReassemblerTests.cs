using System;
using System.Linq;
using System.Text;
using FluxForensics.Capture;

namespace FluxForensics.Tests.Relay
{
    public class TcpReassemblerTests
    {
        private static readonly DateTime T0 = new DateTime(2012, 5, 14, 9, 0, 0, DateTimeKind.Utc);

        private static (TcpReassembler Reassembler, RecordingStreamHandler Handler, TcpScript Script) Setup(
            uint clientIsn = 1000, uint serverIsn = 5000, int maxBuffered = 4 * 1024 * 1024, TimeSpan? timeout = null)
        {
            var handler = new RecordingStreamHandler();
            var options = new CaptureAnalysisOptions { MaxBufferedBytesPerFlow = maxBuffered, FlowTimeout = timeout ?? TimeSpan.FromMinutes(5) };
            var reassembler = new TcpReassembler(options, handler);
            var script = new TcpScript((in DecodedPacket p) => reassembler.OnPacket(in p), "10.0.0.1", 40000, "10.0.0.2", 80, T0, clientIsn, serverIsn);
            return (reassembler, handler, script);
        }

        private static byte[] B(string s) => Encoding.ASCII.GetBytes(s);

        [Fact]
        public void BothDirectionsAreDeliveredInOrderAndTheFlowLeavesOnFin()
        {
            var (r, h, s) = Setup();
            s.Handshake().C("hello ").C("world").S("HTTP/1.0 200 OK\r\n").Close();
            Assert.Equal("hello world", h.ClientText);
            Assert.Equal("HTTP/1.0 200 OK\r\n", h.ServerText);
            Assert.Equal(new[] { TcpCloseReason.Fin }, h.Closes);
            Assert.Equal(0, r.OpenFlowCount);
            Assert.Equal(1, r.FlowsCreated);
            Assert.True(h.Opened[0].SawSyn);
            Assert.Equal(80, h.Opened[0].ServerPort);
        }

        [Fact]
        public void OutOfOrderSegmentsWaitForTheHole()
        {
            var (r, h, s) = Setup();
            s.Handshake();
            uint seq = s.ClientSeq;
            s.Raw(true, seq + 5, B("56789"));
            s.Raw(true, seq + 10, B("ABC"));
            Assert.Equal(string.Empty, h.ClientText);
            s.Raw(true, seq, B("01234"));
            Assert.Equal("0123456789ABC", h.ClientText);
            Assert.Empty(h.Gaps);
        }

        [Fact]
        public void FirstCopyOfAByteWinsOnRetransmissionAndOverlap()
        {
            var (r, h, s) = Setup();
            s.Handshake();
            uint seq = s.ClientSeq;
            s.Raw(true, seq, B("AAAA"));
            s.Raw(true, seq, B("BBBBBB"));          // overlaps 4 delivered bytes, brings 2 new
            s.Raw(true, seq + 10, B("XXXX"));       // queued
            s.Raw(true, seq + 10, B("YYYYYY"));     // same start, queued later: loses the overlap
            s.Raw(true, seq + 6, B("CCCC"));        // fills the hole
            Assert.Equal("AAAABBCCCCXXXXYY", h.ClientText);
            Assert.Equal(4 + 4, r.RetransmittedBytes);
        }

        [Fact]
        public void SequenceNumbersThatWrapAreFollowed()
        {
            var (r, h, s) = Setup(clientIsn: 0xFFFF_FFF0);
            s.Handshake();
            var payload = Enumerable.Range(0, 100).Select(i => (byte)('a' + i % 26)).ToArray();
            s.Data(true, payload, segment: 7);
            Assert.Equal(payload, h.FromClient.ToArray());
            Assert.True(s.ClientSeq < 0x1000);
        }

        [Fact]
        public void AHoleIsReportedNotInvented()
        {
            var (r, h, s) = Setup();
            s.Handshake().C("before");
            s.Skip(true, 10).C("after").Close();
            Assert.Equal("beforeafter", h.ClientText);
            Assert.Contains((true, 10L), h.Gaps);
        }

        [Fact]
        public void AConnectionPickedUpMidStreamTakesTheLowPortAsServer()
        {
            var (r, h, s) = Setup();
            s.S("220 mail ready\r\n").C("EHLO x\r\n");
            Assert.Single(h.Opened);
            Assert.True(h.Opened[0].PickedUpMidStream);
            Assert.Equal(80, h.Opened[0].ServerPort);
            Assert.Equal("EHLO x\r\n", h.ClientText);
            Assert.Equal("220 mail ready\r\n", h.ServerText);
        }

        [Fact]
        public void ResetClosesAndLateAcksDoNotResurrectTheFlow()
        {
            var (r, h, s) = Setup();
            s.Handshake().C("x").Reset(false);
            Assert.Equal(new[] { TcpCloseReason.Reset }, h.Closes);
            s.Raw(true, s.ClientSeq, Array.Empty<byte>(), TcpFlags.Ack);
            Assert.Equal(0, r.OpenFlowCount);
            Assert.Single(h.Opened);
        }

        [Fact]
        public void BufferedBytesPerFlowAreCappedAndTheHoleIsGivenUp()
        {
            var (r, h, s) = Setup(maxBuffered: 4096);
            s.Handshake();
            uint seq = s.ClientSeq;
            var chunk = new byte[1000];
            for (int i = 0; i < 10; i++)
            {
                s.Raw(true, seq + 100 + (uint)(i * 1000), chunk);
            }

            // Never more than the cap waits; the 100 missing bytes are reported as such.
            Assert.Contains((true, 100L), h.Gaps);
            Assert.Equal(10_000, h.FromClient.Length);
        }

        [Fact]
        public void AllFlowsTogetherHoldNoMoreThanTheGlobalCap()
        {
            // 50 flows, each with a 100-byte hole and 3,000 bytes waiting behind it: under the per-flow cap every time,
            // but 150,000 bytes together against a global cap of 16 KiB.
            var handler = new RecordingStreamHandler();
            var options = new CaptureAnalysisOptions { MaxBufferedBytesPerFlow = 8192, MaxBufferedBytesTotal = 16 * 1024 };
            var r = new TcpReassembler(options, handler);
            var chunk = new byte[1000];
            for (int f = 0; f < 50; f++)
            {
                var s = new TcpScript((in DecodedPacket p) => r.OnPacket(in p), "10.0.0.1", (ushort)(40000 + f), "10.0.0.2", 80, T0);
                s.Handshake();
                uint seq = s.ClientSeq;
                for (int i = 0; i < 3; i++)
                {
                    s.Raw(true, seq + 100 + (uint)(i * 1000), chunk);
                }

                Assert.True(r.BufferedBytes <= 16 * 1024, $"flow {f}: {r.BufferedBytes} bytes held");
            }

            Assert.True(r.PeakBufferedBytes <= 16 * 1024);
            Assert.True(r.PeakBufferedBytes >= 15 * 1000, "the budget is used before holes are given up");
            r.CloseAll(TcpCloseReason.EndOfCapture);
            // Nothing is lost or invented: every byte that was sent is delivered, every hole is reported once.
            Assert.Equal(50 * 3000, handler.FromClient.Length);
            Assert.Equal(50, handler.Gaps.Count(g => g.FromClient && g.Missing == 100));
            Assert.Equal(0, r.BufferedBytes);
        }

        [Fact]
        public void IdleFlowsExpireSoMemoryFollowsOpenFlows()
        {
            var (r, h, s) = Setup(timeout: TimeSpan.FromSeconds(60));
            s.Handshake().C("x");
            var later = new TcpScript((in DecodedPacket p) => r.OnPacket(in p), "10.0.0.3", 40001, "10.0.0.2", 80, T0.AddMinutes(10));
            later.Handshake();
            Assert.Contains(TcpCloseReason.Timeout, h.Closes);
            Assert.Equal(1, r.OpenFlowCount);
            r.CloseAll(TcpCloseReason.EndOfCapture);
            Assert.Equal(0, r.OpenFlowCount);
        }

        [Fact]
        public void PacketsWithoutPayloadOfUnknownFlowsAllocateNoFlow()
        {
            var (r, h, s) = Setup();
            s.Raw(true, 1, Array.Empty<byte>(), TcpFlags.Ack);
            s.Raw(true, 1, Array.Empty<byte>(), TcpFlags.Fin | TcpFlags.Ack);
            Assert.Equal(0, r.FlowsCreated);
        }
    }
}

#!/usr/bin/env perl
# Compiler launcher for the CUDA objects (cmake/JtrainCuda.cmake): runs the nvcc command line given after
# OUTDIR, keeps ptxas's resource report (nvcc --resource-usage: per kernel and architecture, registers,
# stack, spills, shared memory) in OUTDIR/<object>.ptxas.txt for cmake/kernel_resources.pl, and passes
# every other line of the compiler's output through. Exits with the compiler's status.
use strict;
use warnings;
use File::Basename qw(basename);
use IO::Select;
use IPC::Open3 qw(open3);
use Symbol qw(gensym);

my $outdir = shift @ARGV or die "usage: ptxas_capture.pl OUTDIR compiler args...\n";
my $object = 'unknown';
for (my $i = 0; $i < $#ARGV; $i++) {
    $object = basename($ARGV[$i + 1]) if $ARGV[$i] eq '-o';
}
my $err = gensym;
my $pid = open3(my $in, my $out, $err, @ARGV);
close $in;
my @report;
# nvcc writes ptxas's lines to stdout or stderr depending on version: read both, line by line.
my $sel = IO::Select->new($out, $err);
while (my @ready = $sel->can_read) {
    for my $fh (@ready) {
        my $line = <$fh>;
        if (!defined $line) {
            $sel->remove($fh);
            next;
        }
        if ($line =~ /^ptxas info\s*:/ || $line =~ /^\s+\d+ bytes stack frame/) {
            push @report, $line;
        } else {
            print { $fh == $err ? *STDERR : *STDOUT } $line;
        }
    }
}
waitpid($pid, 0);
my $status = $? >> 8;
mkdir $outdir unless -d $outdir;
open(my $f, '>', "$outdir/$object.ptxas.txt") or die "ptxas_capture.pl: cannot write $outdir/$object.ptxas.txt: $!\n";
print $f @report;
close $f;
exit $status;

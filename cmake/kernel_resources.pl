#!/usr/bin/env perl
# Turns the ptxas reports kept by cmake/ptxas_capture.pl into one JSON file: for every kernel and
# architecture, registers, barriers, shared memory (static bytes), stack frame and spill bytes. Then it
# fails (status 1) when a kernel spills on the checked architecture (sm_90) and kernels/spills-allowed.txt
# does not list it with a reason: static evidence for the GPU path while no GPU is at hand.
#
#   perl kernel_resources.pl REPORT_DIR ALLOWLIST OUT_JSON [ARCH]
use strict;
use warnings;

my ($dir, $allowlist, $json_out, $checked) = @ARGV;
die "usage: kernel_resources.pl REPORT_DIR ALLOWLIST OUT_JSON [ARCH]\n" unless defined $json_out;
$checked //= 'sm_90';

my %allowed;    # substring of the demangled kernel name -> reason
if (open(my $a, '<', $allowlist)) {
    while (<$a>) {
        next if /^\s*(#|$)/;
        chomp;
        my ($name, $why) = split /\s*\|\s*/, $_, 2;
        $allowed{$name} = $why // '';
    }
    close $a;
}

my @rows;
opendir(my $d, $dir) or die "kernel_resources.pl: no reports in $dir: $!\n";
for my $file (sort grep { /\.ptxas\.txt$/ } readdir $d) {
    open(my $f, '<', "$dir/$file") or die "$dir/$file: $!\n";
    my $cur;
    while (my $line = <$f>) {
        if ($line =~ /Compiling entry function '([^']+)' for '(sm_\d+)'/) {
            my ($mangled, $arch) = ($1, $2);    # before another match resets $1 and $2
            (my $source = $file) =~ s/\.o\.ptxas\.txt$//;
            $cur = { mangled => $mangled, arch => $arch, source => $source,
                     registers => 0, barriers => 0, smem => 0, stack => 0, spill_stores => 0, spill_loads => 0 };
            push @rows, $cur;
        } elsif ($cur && $line =~ /(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads/) {
            @$cur{qw(stack spill_stores spill_loads)} = ($1, $2, $3);
        } elsif ($cur && $line =~ /Used (\d+) registers/) {
            $cur->{registers} = $1;
            $cur->{barriers} = $1 if $line =~ /used (\d+) barriers/;   # (each match sets its own $1)
            $cur->{smem} = $1 if $line =~ /(\d+) bytes smem/;
        }
    }
    close $f;
}
closedir $d;

# Demangle all names in one c++filt call where it exists (binutils); keep the mangled name otherwise.
my @mangled = map { $_->{mangled} } @rows;
my @names = @mangled;
if (@mangled && open(my $p, '-|', 'c++filt', @mangled)) {
    my @out = <$p>;
    close $p;
    chomp @out;
    @names = @out if @out == @mangled;
}
$rows[$_]{kernel} = $names[$_] for 0 .. $#rows;

sub esc { my $s = shift; $s =~ s/(["\\])/\\$1/g; return $s; }
open(my $o, '>', $json_out) or die "kernel_resources.pl: cannot write $json_out: $!\n";
print $o "{\n  \"checked_arch\": \"$checked\",\n  \"kernels\": [\n";
print $o join(",\n", map {
    sprintf('    {"kernel": "%s", "source": "%s", "arch": "%s", "registers": %d, "barriers": %d, "smem_bytes": %d, '
        . '"stack_bytes": %d, "spill_store_bytes": %d, "spill_load_bytes": %d}',
        esc($_->{kernel}), esc($_->{source}), $_->{arch}, @$_{qw(registers barriers smem stack spill_stores spill_loads)})
} @rows);
print $o "\n  ]\n}\n";
close $o;

my @bad;
for my $r (grep { $_->{arch} eq $checked && ($_->{spill_stores} || $_->{spill_loads}) } @rows) {
    next if grep { index($r->{kernel}, $_) >= 0 } keys %allowed;
    push @bad, "$r->{kernel} ($r->{source}): $r->{spill_stores} B spill stores, $r->{spill_loads} B spill loads";
}
my $n = grep { $_->{arch} eq $checked } @rows;
print "kernel resources: $n kernels on $checked, report in $json_out\n";
if (@bad) {
    print STDERR "kernel resources: kernels spill on $checked without a reason in $allowlist:\n  ",
        join("\n  ", @bad), "\n";
    exit 1;
}
exit 0;

# fish completion for otatool(1).
#
# Two tables drive it, as in otatool.bash and _otatool (zsh): a command is
# one line in __otatool_commands, and an option one `complete` line below,
# offered to every command that lists it. Adding a command that reuses
# existing options is one line here.

# One line per command, in the order of `otatool --help`:
#   NAME|SUMMARY|OPERAND|OPTIONS
# OPERAND is what the command's other words are: release (a release file),
# manifest (manifests, *.json), input (a release file or a manifest), file
# (any file), keyaction (an action of otatool keys, then what that action
# takes), chainaction (the action of otatool chain), trustaction (an
# action of otatool trust, then the record it reads), command (a command
# name), or none. OPTIONS are long option names.
set -g __otatool_commands \
    'manifest|describe a release as a canonical JSON manifest|release|output quiet help name release-version hardware bootloader-min security-counter dependency image digest build-id build-time git-dir git-commit git-branch git-tag allow-dirty allow-outside previous' \
    'sign|sign manifests with key files or PKCS#11 tokens|manifest|key cert chain rsa-padding pkcs11-module passphrase-file trust-key trust crl crl-required at allow-weak-crypto output no-image-check json quiet export-digest export-payload import-signature algorithm help' \
    'keys|generate, list and export signing keys|keyaction|type key public output format pkcs11-module json quiet help' \
    "chain|check a signer certificate's chain to a root|chainaction|cert chain trust-key trust crl crl-required at allow-weak-crypto key pkcs11-module json quiet help" \
    'package|build an otatool package or an MCUboot image|input|output format quiet key cert chain rsa-padding pkcs11-module passphrase-file alignment compress compress-image delta-from root-record tsa tsa-request tsa-trust image header-size pad-header no-pad-header slot-size write-align pad confirm test overwrite-only max-sectors max-align output-format hex-addr erased-value rom-fixed public-key-tlv mcuboot-dependency build-number encrypt-key encrypt-keylen hmac-sha clear git-dir allow-dirty allow-outside trust-key trust crl crl-required at allow-weak-crypto help' \
    'verify|verify a package, MCUboot image or signed manifest|file|trust-key trust crl crl-required at allow-weak-crypto threshold root tsa-trust require-timestamp hardware counter bootloader-version base decrypt-key pkcs11-module passphrase-file images json quiet help' \
    'inspect|show every field of a package, MCUboot image or manifest|file|json decrypt-key pkcs11-module passphrase-file help' \
    "extract|write a verified package's images out|file|output base trust-key trust crl crl-required at allow-weak-crypto decrypt-key pkcs11-module passphrase-file quiet help" \
    'diff|whether two packages or MCUboot images sign the same content|file|json quiet help' \
    "timestamp|add RFC 3161 timestamps to a signed package's signatures|file|tsa tsa-request tsa-reply tsa-query tsa-trust quiet help" \
    'trust|make, rotate, revoke and show trust root records|trustaction|root-key release-key remove-key revoke-key root-threshold release-threshold generation expires key cert chain rsa-padding pkcs11-module passphrase-file previous partial output json quiet help' \
    'help|show help for otatool or one of its commands|command|'

# The actions of otatool keys: NAME|SUMMARY.
set -g __otatool_keys_actions \
    'generate|make a key pair in a file or a token' \
    'list|list tokens and their keys' \
    'export-public|export a public key and its key id'

# The actions of otatool chain: NAME|SUMMARY.
set -g __otatool_chain_actions \
    "check|check a signer certificate's chain to a root"

# The actions of otatool trust: NAME|SUMMARY.
set -g __otatool_trust_actions \
    'init|make root record version 1' \
    'rotate|make version N+1 from version N' \
    'revoke|a rotation that revokes keys' \
    'sign|add signatures to a record' \
    'show|print a record and its thresholds'

# Prints the command on the command line; fails if there is none yet.
function __otatool_command
    for w in (commandline -opc)[2..-1]
        switch $w
            case '-*'
                continue
            case '*'
                echo $w
                return 0
        end
    end
    return 1
end

# Prints field $argv[2] (1-based) of command $argv[1]'s table line.
function __otatool_field --argument-names cmd n
    for entry in $__otatool_commands
        set -l f (string split '|' -- $entry)
        if test "$f[1]" = "$cmd"
            echo $f[$n]
            return 0
        end
    end
    return 1
end

# Does the command on the command line take option --$argv[1]?
function __otatool_takes --argument-names opt
    set -l cmd (__otatool_command); or return 1
    contains -- $opt (string split ' ' -- (__otatool_field $cmd 4))
end

# Is the command on the command line one of $argv? For the few options
# whose value differs by command.
function __otatool_is
    set -l cmd (__otatool_command); or return 1
    contains -- $cmd $argv
end

# Are the command's other words of kind $argv[1] (release, command)?
function __otatool_operand --argument-names kind
    set -l cmd (__otatool_command); or return 1
    set -l operand (__otatool_field $cmd 3)
    test "$operand" = "$kind"
end

function __otatool_command_list
    string replace -r -- '^([^|]*)\|([^|]*)\|.*$' '$1\t$2' $__otatool_commands
end

# With one argument: is the action of command $argv[1] (keys, chain) still
# to be given? With two: is it $argv[2]? The action is the word right after
# the command.
function __otatool_action --argument-names cmd
    set -l words (commandline -opc)
    set -l i (contains -i -- $cmd $words); or return 1
    set -l action $words[(math $i + 1)] 2>/dev/null
    if test (count $argv) -lt 2
        test -z "$action"
    else
        test "$action" = "$argv[2]"
    end
end

# Release files and manifests: *.yaml, *.yml, *.json, and directories.
function __otatool_input_files
    set -l tok (commandline -ct)
    complete -C "__otatool_no_such_command $tok" \
        | string match -r -- '^[^\t]*(?:\.ya?ml|\.json|/)(?:\t.*)?$'
end

# Manifests: *.json, and directories to look into.
function __otatool_manifest_files
    set -l tok (commandline -ct)
    complete -C "__otatool_no_such_command $tok" \
        | string match -r -- '^[^\t]*(?:\.json|/)(?:\t.*)?$'
end

# Release files: *.yaml and *.yml, and directories to look into.
function __otatool_release_files
    set -l tok (commandline -ct)
    complete -C "__otatool_no_such_command $tok" \
        | string match -r -- '^[^\t]*(?:\.ya?ml|/)(?:\t.*)?$'
end

# The value of --image, NAME:KIND:FILE[:LOAD_ADDRESS], part by part.
function __otatool_image_arg
    set -l tok (string replace -r -- '^--image=' '' (commandline -ct))
    set -l parts (string split ':' -- $tok)
    switch (count $parts)
        case 2
            for kind in bootloader application config factory-reset
                printf '%s:%s:\timage kind\n' $parts[1] $kind
            end
        case 3
            set -l prefix $parts[1]:$parts[2]:
            for f in (complete -C "__otatool_no_such_command $parts[3]")
                echo $prefix$f
            end
    end
end

complete -c otatool -f

# Global options and commands.
complete -c otatool -n 'not __otatool_command' -s V -l version -d 'show the version and the libraries it runs with'
complete -c otatool -n 'not __otatool_command; and __fish_seen_argument -s V -l version' -l json -d 'the versions as JSON'
complete -c otatool -n 'not __otatool_command' -s h -l help -d 'show the usage summary and the commands'
complete -c otatool -n 'not __otatool_command' -a '(__otatool_command_list)'

# Operands.
complete -c otatool -n '__otatool_operand release' -a '(__otatool_release_files)'
complete -c otatool -n '__otatool_operand command' -a '(__otatool_command_list)'
complete -c otatool -n '__otatool_operand manifest' -a '(__otatool_manifest_files)'
complete -c otatool -n '__otatool_operand input' -a '(__otatool_input_files)'
complete -c otatool -n '__otatool_operand file' -F
complete -c otatool -n '__otatool_operand keyaction; and __otatool_action keys' \
    -a '(string replace -- "|" \t $__otatool_keys_actions)'
complete -c otatool -n '__otatool_operand keyaction; and __otatool_action keys export-public' -F
complete -c otatool -n '__otatool_operand chainaction; and __otatool_action chain' \
    -a '(string replace -- "|" \t $__otatool_chain_actions)'
complete -c otatool -n '__otatool_operand trustaction; and __otatool_action trust' \
    -a '(string replace -- "|" \t $__otatool_trust_actions)'
complete -c otatool -n '__otatool_operand trustaction; and not __otatool_action trust; and not __otatool_action trust init' -F

# Options, one line each, offered to the commands that list them.
complete -c otatool -n '__otatool_takes output; and not __otatool_is extract' -s o -l output -r -F -d 'write to FILE instead of standard output'
complete -c otatool -n '__otatool_takes output; and __otatool_is extract' -s o -l output -x -a '(__fish_complete_directories)' -d 'directory to write the images to'
complete -c otatool -n '__otatool_takes quiet; and not __otatool_is verify chain diff' -s q -l quiet -d 'no progress or summary on stderr'
complete -c otatool -n '__otatool_takes quiet; and __otatool_is verify chain diff' -s q -l quiet -d 'no report; the exit status says it all'
complete -c otatool -n '__otatool_takes help' -s h -l help -d 'show help for the command'
complete -c otatool -n '__otatool_takes name' -l name -x -d 'component name'
complete -c otatool -n '__otatool_takes release-version' -l release-version -x -d 'semantic version of the release'
complete -c otatool -n '__otatool_takes hardware; and not __otatool_is verify' -l hardware -x -d 'compatible hardware variant (repeatable)'
complete -c otatool -n '__otatool_takes hardware; and __otatool_is verify' -l hardware -x -d "the device's hardware variant"
complete -c otatool -n '__otatool_takes bootloader-min' -l bootloader-min -x -d 'minimum bootloader version'
complete -c otatool -n '__otatool_takes security-counter' -l security-counter -x -d 'anti-rollback counter (0..4294967295)'
complete -c otatool -n '__otatool_takes dependency' -l dependency -x -d 'NAME:RANGE, a required component (repeatable)'
complete -c otatool -n '__otatool_takes image; and not __otatool_is package' -l image -x -a '(__otatool_image_arg)' -d 'NAME:KIND:FILE[:LOAD_ADDRESS], an image (repeatable)'
complete -c otatool -n '__otatool_takes image; and __otatool_is package' -l image -x -d "MCUboot: the manifest's image to sign"
complete -c otatool -n '__otatool_takes digest' -l digest -x -a 'sha256 sha384 sha512' -d 'image digest algorithm'
complete -c otatool -n '__otatool_takes build-id' -l build-id -x -d 'build machine or CI job id'
complete -c otatool -n '__otatool_takes build-time' -l build-time -x -d 'RFC 3339 build time'
complete -c otatool -n '__otatool_takes git-dir' -l git-dir -x -a '(__fish_complete_directories)' -d 'repository to read'
complete -c otatool -n '__otatool_takes git-commit' -l git-commit -x -d 'record this commit instead of reading git'
complete -c otatool -n '__otatool_takes git-branch' -l git-branch -x -d 'with --git-commit, the branch'
complete -c otatool -n '__otatool_takes git-tag' -l git-tag -x -d 'with --git-commit, the nearest tag'
complete -c otatool -n '__otatool_takes allow-dirty' -l allow-dirty -d 'record a dirty tree instead of refusing'
complete -c otatool -n '__otatool_takes allow-outside' -l allow-outside -d "read release-file images outside its directory"
complete -c otatool -n '__otatool_takes previous; and not __otatool_is trust' -l previous -r -F -d "previous release's manifest"
complete -c otatool -n '__otatool_takes previous; and __otatool_is trust' -l previous -r -F -d 'the record before this one'
complete -c otatool -n '__otatool_takes threshold' -l threshold -x -d 'distinct trusted keys that must sign'
complete -c otatool -n '__otatool_takes root' -l root -r -F -d "trust root records: the device's, then newer ones"
complete -c otatool -n '__otatool_takes root-record' -l root-record -r -F -d 'carry this trust root record (repeatable)'
complete -c otatool -n '__otatool_takes root-key' -l root-key -r -F -d 'add a root key (public key or pkcs11: URI)'
complete -c otatool -n '__otatool_takes release-key' -l release-key -r -F -d 'add a release key (public key or pkcs11: URI)'
complete -c otatool -n '__otatool_takes remove-key' -l remove-key -r -F -d 'drop a key (key id or key file)'
complete -c otatool -n '__otatool_takes revoke-key' -l revoke-key -r -F -d 'revoke a key id for ever (key id or key file)'
complete -c otatool -n '__otatool_takes root-threshold' -l root-threshold -x -d 'root keys that must sign the next record'
complete -c otatool -n '__otatool_takes release-threshold' -l release-threshold -x -d 'distinct release keys that must sign a package'
complete -c otatool -n '__otatool_takes generation' -l generation -x -d 'generation of the keys added'
complete -c otatool -n '__otatool_takes expires' -l expires -x -a never -d 'RFC 3339 expiry of the record, or never'
complete -c otatool -n '__otatool_takes partial' -l partial -d 'write a record whose thresholds are not met yet'
complete -c otatool -n '__otatool_takes key; and not __otatool_is chain' -s k -l key -r -F -d 'key file or pkcs11: URI'
complete -c otatool -n '__otatool_takes key; and __otatool_is chain' -l key -r -F -d "the signing key: must be the signer's"
complete -c otatool -n '__otatool_takes cert; and not __otatool_is chain' -l cert -r -F -d 'certificate of the n-th --key'
complete -c otatool -n '__otatool_takes cert; and __otatool_is chain' -l cert -r -F -d 'the signer certificate'
complete -c otatool -n '__otatool_takes chain; and not __otatool_is chain' -l chain -r -F -d 'intermediate certificates of the n-th --key'
complete -c otatool -n '__otatool_takes chain; and __otatool_is chain' -l chain -r -F -d 'intermediate certificates (repeatable)'
complete -c otatool -n '__otatool_takes rsa-padding' -l rsa-padding -x -a 'pss pkcs1' -d 'RSA signature padding'
complete -c otatool -n '__otatool_takes pkcs11-module' -l pkcs11-module -r -F -d 'PKCS#11 module when the URI names none'
complete -c otatool -n '__otatool_takes passphrase-file' -l passphrase-file -r -F -d 'passphrase of encrypted key files'
complete -c otatool -n '__otatool_takes no-image-check' -l no-image-check -d 'do not re-hash the images'
complete -c otatool -n '__otatool_takes json' -l json -d 'machine-readable output on stdout'
complete -c otatool -n '__otatool_takes export-digest' -l export-digest -r -F -d 'write the digest to sign'
complete -c otatool -n '__otatool_takes export-payload' -l export-payload -r -F -d 'write the exact message to sign'
complete -c otatool -n '__otatool_takes import-signature' -l import-signature -r -F -d 'add a signature made elsewhere'
complete -c otatool -n '__otatool_takes algorithm' -l algorithm -x -a 'ecdsa-p256-sha256 ecdsa-p384-sha384 rsa-pss-sha256 rsa-pkcs1-sha256 ed25519' -d 'two-step signing algorithm'
complete -c otatool -n '__otatool_takes type' -s t -l type -x -a 'ecdsa-p256 ecdsa-p384 rsa-2048 rsa-3072 rsa-4096 ed25519 x25519' -d 'key type'
complete -c otatool -n '__otatool_takes public' -l public -r -F -d 'generate: public key file'
complete -c otatool -n '__otatool_takes format; and not __otatool_is package' -l format -x -a 'pem der' -d 'export-public: output format'
complete -c otatool -n '__otatool_takes format; and __otatool_is package' -l format -x -a 'otatool mcuboot' -d 'package format'
complete -c otatool -n '__otatool_takes trust-key' -l trust-key -r -F -d 'a trusted public key (repeatable)'
complete -c otatool -n '__otatool_takes trust' -l trust -r -F -d 'trust anchors: PEM bundle, DER file or directory'
complete -c otatool -n '__otatool_takes crl' -l crl -r -F -d 'certificate revocation list (repeatable)'
complete -c otatool -n '__otatool_takes crl-required' -l crl-required -d 'refuse certificates without a CRL of their issuer'
complete -c otatool -n '__otatool_takes at' -l at -x -d 'check certificates at this RFC 3339 time'
complete -c otatool -n '__otatool_takes allow-weak-crypto' -l allow-weak-crypto -d 'accept MD5/SHA-1, RSA < 2048 bits and other curves'
complete -c otatool -n '__otatool_takes counter' -l counter -x -d "the device's anti-rollback counter"
complete -c otatool -n '__otatool_takes bootloader-version' -l bootloader-version -x -d "the device's bootloader version"
complete -c otatool -n '__otatool_takes images' -l images -x -a '(__fish_complete_directories)' -d 'signed manifests: where the image files are'
complete -c otatool -n '__otatool_takes alignment' -l alignment -x -d 'payload alignment, a power of two from 16 to 1048576'
complete -c otatool -n '__otatool_takes compress' -l compress -d 'store every image zlib-compressed'
complete -c otatool -n '__otatool_takes compress-image' -l compress-image -x -d 'store this image compressed (repeatable)'
complete -c otatool -n '__otatool_takes delta-from' -l delta-from -r -F -d 'a delta release against this package or directory'
complete -c otatool -n '__otatool_takes tsa' -l tsa -x -d 'the time-stamping authority to ask (http URL)'
complete -c otatool -n '__otatool_takes tsa-request' -l tsa-request -r -F -d 'write the timestamp queries to this file'
complete -c otatool -n '__otatool_takes tsa-reply' -l tsa-reply -r -F -d 'add this reply of the TSA'
complete -c otatool -n '__otatool_takes tsa-query' -l tsa-query -r -F -d 'the query the reply answers (nonce check)'
complete -c otatool -n '__otatool_takes tsa-trust' -l tsa-trust -r -F -d 'roots of the time-stamping authorities'
complete -c otatool -n '__otatool_takes require-timestamp' -l require-timestamp -d 'refuse signatures without a valid timestamp'
complete -c otatool -n '__otatool_takes base' -l base -r -F -d 'the release a delta package was made against'
complete -c otatool -n '__otatool_takes header-size' -l header-size -x -d 'MCUboot header area incl. padding (default 0x200)'
complete -c otatool -n '__otatool_takes slot-size' -l slot-size -x -d 'refuse an image that does not fit the slot'
complete -c otatool -n '__otatool_takes write-align' -l write-align -x -a '1 2 4 8 16 32' -d 'flash write alignment'
complete -c otatool -n '__otatool_takes pad-header' -l pad-header -d 'always prepend the MCUboot header'
complete -c otatool -n '__otatool_takes no-pad-header' -l no-pad-header -d 'the image reserves the header: refuse it if not zero'
complete -c otatool -n '__otatool_takes pad' -l pad -d 'pad to the slot size, boot magic at the end'
complete -c otatool -n '__otatool_takes confirm' -l confirm -d 'pad and set image_ok (a permanent upgrade)'
complete -c otatool -n '__otatool_takes test' -l test -d 'pad, image_ok left erased (a test upgrade)'
complete -c otatool -n '__otatool_takes overwrite-only' -l overwrite-only -d 'MCUboot built for overwrite-only upgrades'
complete -c otatool -n '__otatool_takes max-sectors' -l max-sectors -x -d 'sectors in the swap status (default 128)'
complete -c otatool -n '__otatool_takes max-align' -l max-align -x -a '8 16 32' -d 'BOOT_MAX_ALIGN'
complete -c otatool -n '__otatool_takes output-format' -l output-format -x -a 'bin hex' -d 'MCUboot image output format'
complete -c otatool -n '__otatool_takes hex-addr' -l hex-addr -x -d 'address of the HEX output'
complete -c otatool -n '__otatool_takes erased-value' -l erased-value -x -a '0xff 0' -d 'value of erased flash'
complete -c otatool -n '__otatool_takes rom-fixed' -l rom-fixed -d 'the load address is a fixed flash address'
complete -c otatool -n '__otatool_takes public-key-tlv' -l public-key-tlv -d 'embed the public key, not its hash'
complete -c otatool -n '__otatool_takes mcuboot-dependency' -l mcuboot-dependency -x -d 'ID:VERSION, a required image version (repeatable)'
complete -c otatool -n '__otatool_takes build-number' -l build-number -x -d "the version's build number"
complete -c otatool -n '__otatool_takes encrypt-key' -l encrypt-key -r -F -d 'encrypt for this recipient (public key, AES-KW key file or pkcs11: URI; repeatable)'
complete -c otatool -n '__otatool_takes encrypt-keylen' -l encrypt-keylen -x -a '128 256' -d 'AES content key bits'
complete -c otatool -n '__otatool_takes hmac-sha' -l hmac-sha -x -a '256 512' -d 'ECIES-X25519 HKDF/HMAC hash'
complete -c otatool -n '__otatool_takes clear' -l clear -d 'key TLV and flag, but the payload in the clear'
complete -c otatool -n '__otatool_takes decrypt-key' -l decrypt-key -r -F -d "a recipient's key: decrypts an encrypted package or MCUboot image"

# bash completion for otatool(1)                          -*- shell-script -*-
#
# Two tables drive it, as in _otatool (zsh) and otatool.fish: a command is
# one line in _otatool_commands, and an option that takes a value is one
# case in _otatool_optarg. Adding a command that reuses existing options is
# one line here. Self-contained: bash-completion is not required.

# One line per command, in the order of `otatool --help`:
#   NAME  OPERAND  OPTIONS...
# OPERAND is what the command's other words are: release (a release file),
# manifest (manifests, *.json), input (a release file or a manifest), file
# (any file), action (an action of the command, from _otatool_actions,
# then what that action takes), command (a command name), or none.
_otatool_commands=(
	'manifest release -o --output -q --quiet -h --help --name --release-version --hardware --bootloader-min --security-counter --dependency --image --digest --build-id --build-time --git-dir --git-commit --git-branch --git-tag --allow-dirty --allow-outside --previous'
	'sign manifest -k --key --cert --chain --rsa-padding --pkcs11-module --passphrase-file --trust-key --trust --crl --crl-required --at --allow-weak-crypto -o --output --no-image-check --json -q --quiet --export-digest --export-payload --import-signature --algorithm -h --help'
	'keys action -t --type -k --key --public -o --output --format --pkcs11-module --json -q --quiet -h --help'
	'chain action --cert --chain --trust-key --trust --crl --crl-required --at --allow-weak-crypto --key --pkcs11-module --json -q --quiet -h --help'
	'package input -o --output --format -q --quiet -k --key --cert --chain --rsa-padding --pkcs11-module --passphrase-file --alignment --compress --compress-image --delta-from --root-record --tsa --tsa-request --tsa-trust --image --header-size --pad-header --no-pad-header --slot-size --write-align --pad --confirm --test --overwrite-only --max-sectors --max-align --output-format --hex-addr --erased-value --rom-fixed --public-key-tlv --mcuboot-dependency --build-number --encrypt-key --encrypt-keylen --hmac-sha --clear --git-dir --allow-dirty --allow-outside --trust-key --trust --crl --crl-required --at --allow-weak-crypto -h --help'
	'verify file --trust-key --trust --crl --crl-required --at --allow-weak-crypto --threshold --root --tsa-trust --require-timestamp --hardware --counter --bootloader-version --base --decrypt-key --pkcs11-module --passphrase-file --images --json -q --quiet -h --help'
	'inspect file --json --decrypt-key --pkcs11-module --passphrase-file -h --help'
	'extract file -o --output --base --trust-key --trust --crl --crl-required --at --allow-weak-crypto --decrypt-key --pkcs11-module --passphrase-file -q --quiet -h --help'
	'diff file --json -q --quiet -h --help'
	'timestamp file --tsa --tsa-request --tsa-reply --tsa-query --tsa-trust -q --quiet -h --help'
	'trust action --root-key --release-key --remove-key --revoke-key --root-threshold --release-threshold --generation --expires -k --key --cert --chain --rsa-padding --pkcs11-module --passphrase-file --previous --partial -o --output --json -q --quiet -h --help'
	'help command'
)

# The actions of the commands whose OPERAND is action, and the operand each
# takes: file (a key or certificate), uri (a pkcs11: URI, nothing to
# complete), or none.
#   COMMAND  ACTION  OPERAND
_otatool_actions=(
	'keys generate none'
	'keys list uri'
	'keys export-public file'
	'chain check none'
	'trust init none'
	'trust rotate file'
	'trust revoke file'
	'trust sign file'
	'trust show file'
)

_otatool_global_options='-V --version -h --help'

# Sets _otatool_arg to what option $1's value is for command $2: file,
# dir, text, or "choice WORD..."; empty for an option that takes no value.
# Options of the same name mean the same everywhere, except where noted.
_otatool_optarg()
{
	case $1 in
	-o | --output)
		# extract writes a directory of images
		if [[ $2 == extract ]]; then
			_otatool_arg=dir
		else
			_otatool_arg=file
		fi
		;;
	--previous | -k | --key | --cert | --chain | \
		--passphrase-file | --pkcs11-module | --public | \
		--export-digest | --export-payload | --import-signature | \
		--trust-key | --trust | --crl | --encrypt-key | --decrypt-key | --delta-from | --base | \
		--tsa-request | --tsa-reply | --tsa-query | --tsa-trust | \
		--root | --root-record | --root-key | --release-key | --remove-key | --revoke-key)
		# --delta-from, --base: a package or a directory (files
		# complete both)
		_otatool_arg=file ;;
	--git-dir | --images) _otatool_arg=dir ;;
	--digest) _otatool_arg='choice sha256 sha384 sha512' ;;
	-t | --type)
		_otatool_arg='choice ecdsa-p256 ecdsa-p384 rsa-2048 rsa-3072 rsa-4096 ed25519 x25519' ;;
	--rsa-padding) _otatool_arg='choice pss pkcs1' ;;
	--format)
		# keys export-public: an encoding; package: a package format
		if [[ $2 == package ]]; then
			_otatool_arg='choice otatool mcuboot'
		else
			_otatool_arg='choice pem der'
		fi
		;;
	--algorithm)
		_otatool_arg='choice ecdsa-p256-sha256 ecdsa-p384-sha384 rsa-pss-sha256 rsa-pkcs1-sha256 ed25519' ;;
	--write-align) _otatool_arg='choice 1 2 4 8 16 32' ;;
	--max-align) _otatool_arg='choice 8 16 32' ;;
	--output-format) _otatool_arg='choice bin hex' ;;
	--erased-value) _otatool_arg='choice 0xff 0' ;;
	--encrypt-keylen) _otatool_arg='choice 128 256' ;;
	--hmac-sha) _otatool_arg='choice 256 512' ;;
	--name | --release-version | --hardware | --bootloader-min | \
		--security-counter | --dependency | --image | --build-id | \
		--build-time | --git-commit | --git-branch | --git-tag | \
		--at | --counter | --bootloader-version | --alignment | \
		--compress-image | --header-size | --slot-size | \
		--mcuboot-dependency | --build-number | --max-sectors | --hex-addr | \
		--tsa | --threshold | \
		--root-threshold | --release-threshold | --generation | --expires)
		_otatool_arg=text ;;
	*) _otatool_arg= ;;
	esac
}

# Adds the completions of cur for a value of kind $1 to COMPREPLY; $2 is
# the command, for the kind action.
_otatool_complete_arg()
{
	local IFS=$'\n' name entry

	case $1 in
	file)
		compopt -o filenames 2>/dev/null
		COMPREPLY+=($(compgen -f -- "$cur"))
		;;
	dir)
		compopt -o filenames 2>/dev/null
		COMPREPLY+=($(compgen -d -- "$cur"))
		;;
	release)
		compopt -o filenames 2>/dev/null
		COMPREPLY+=($(compgen -d -- "$cur")
			$(compgen -f -X '!*.yaml' -- "$cur")
			$(compgen -f -X '!*.yml' -- "$cur"))
		;;
	manifest)
		compopt -o filenames 2>/dev/null
		COMPREPLY+=($(compgen -d -- "$cur")
			$(compgen -f -X '!*.json' -- "$cur"))
		;;
	input)
		compopt -o filenames 2>/dev/null
		COMPREPLY+=($(compgen -d -- "$cur")
			$(compgen -f -X '!*.yaml' -- "$cur")
			$(compgen -f -X '!*.yml' -- "$cur")
			$(compgen -f -X '!*.json' -- "$cur"))
		;;
	action)
		# the actions of command $2
		for entry in "${_otatool_actions[@]}"; do
			[[ ${entry%% *} == "$2" ]] || continue
			entry=${entry#* }
			name=${entry%% *}
			[[ $name == "$cur"* ]] && COMPREPLY+=("$name")
		done
		;;
	command)
		for entry in "${_otatool_commands[@]}"; do
			name=${entry%% *}
			[[ $name == "$cur"* ]] && COMPREPLY+=("$name")
		done
		;;
	choice\ *)
		name=${1#choice }
		COMPREPLY+=($(compgen -W "${name// /$'\n'}" -- "$cur"))
		;;
	esac
}

_otatool()
{
	local cur=${COMP_WORDS[COMP_CWORD]} cword=$COMP_CWORD
	local i w cmd= cmd_at=0 entry operand= options= expect= dashdash=
	local _otatool_arg

	COMPREPLY=()

	# The command is the first word that is not a global option.
	for ((i = 1; i < cword; i++)); do
		if [[ ${COMP_WORDS[i]} != -* ]]; then
			cmd=${COMP_WORDS[i]}
			cmd_at=$i
			break
		fi
	done
	if [[ -z $cmd ]]; then
		# otatool --version [--json]
		if ((cword == 2)) && [[ ${COMP_WORDS[1]} == @(-V|--version) ]]; then
			COMPREPLY=($(compgen -W '--json --help' -- "$cur"))
			return 0
		fi
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$_otatool_global_options" -- "$cur"))
		else
			_otatool_complete_arg command
		fi
		return 0
	fi

	for entry in "${_otatool_commands[@]}"; do
		if [[ ${entry%% *} == "$cmd" ]]; then
			entry=${entry#* }
			operand=${entry%% *}
			[[ $entry == *' '* ]] && options=${entry#* }
			break
		fi
	done
	[[ -n $operand ]] || return 0 # not a command otatool knows

	# Which option, if any, the current word is the value of. bash splits
	# "--opt=value" into "--opt", "=" and "value" (COMP_WORDBREAKS).
	for ((i = cmd_at + 1; i < cword; i++)); do
		w=${COMP_WORDS[i]}
		if [[ -n $expect ]]; then
			[[ $w == = ]] || expect=
			continue
		fi
		[[ -n $dashdash ]] && continue
		case $w in
		--) dashdash=1 ;;
		--*=*) ;;
		-?*)
			_otatool_optarg "$w" "$cmd"
			[[ -n $_otatool_arg ]] && expect=$w
			;;
		esac
	done
	if [[ -n $expect ]]; then
		[[ $cur == = ]] && cur=
		_otatool_optarg "$expect" "$cmd"
		_otatool_complete_arg "$_otatool_arg"
		return 0
	fi

	if [[ -z $dashdash && $cur == -* ]]; then
		if [[ $cur == --*=* ]]; then
			# COMP_WORDBREAKS without "=": complete the value in place.
			local opt=${cur%%=*} n
			_otatool_optarg "$opt" "$cmd"
			cur=${cur#*=}
			_otatool_complete_arg "$_otatool_arg"
			for n in "${!COMPREPLY[@]}"; do
				COMPREPLY[n]=$opt=${COMPREPLY[n]}
			done
			return 0
		fi
		COMPREPLY=($(compgen -W "$options" -- "$cur"))
		return 0
	fi
	# otatool keys, chain and trust: the action comes first, then what the
	# action takes.
	if [[ $operand == action && $cword -gt $((cmd_at + 1)) ]]; then
		operand=none
		for entry in "${_otatool_actions[@]}"; do
			if [[ $entry == "$cmd ${COMP_WORDS[cmd_at + 1]} "* ]]; then
				operand=${entry##* }
				break
			fi
		done
	fi
	_otatool_complete_arg "$operand" "$cmd"
	return 0
}

complete -F _otatool otatool

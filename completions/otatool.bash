# bash completion for otatool(1)                          -*- shell-script -*-
#
# Two tables drive it, as in _otatool (zsh) and otatool.fish: a command is
# one line in _otatool_commands, and an option that takes a value is one
# case in _otatool_optarg. Adding a command that reuses existing options is
# one line here. Self-contained: bash-completion is not required.

# One line per command, in the order of `otatool --help`:
#   NAME  OPERAND  OPTIONS...
# OPERAND is what the command's other words are: release (a release file),
# manifest (manifests, *.json), keyaction (an action of otatool keys, then
# what that action takes), command (a command name), or none.
_otatool_commands=(
	'manifest release -o --output -q --quiet -h --help --name --release-version --hardware --bootloader-min --security-counter --dependency --image --digest --build-id --build-time --git-dir --git-commit --git-branch --git-tag --allow-dirty --previous'
	'sign manifest -k --key --cert --chain --rsa-padding --pkcs11-module --passphrase-file -o --output --no-image-check --json -q --quiet --export-digest --export-payload --import-signature --algorithm -h --help'
	'keys keyaction -t --type -k --key --public -o --output --format --pkcs11-module --json -q --quiet -h --help'
	'help command'
)

# The actions of otatool keys, and the operand each takes: file (a key or
# certificate), uri (a pkcs11: URI, nothing to complete), or none.
_otatool_keys_actions=(
	'generate none'
	'list uri'
	'export-public file'
)

_otatool_global_options='-V --version -h --help'

# Sets _otatool_arg to what option $1's value is: file, dir, text, or
# "choice WORD..."; empty for an option that takes no value.
_otatool_optarg()
{
	case $1 in
	-o | --output | --previous | -k | --key | --cert | --chain | \
		--passphrase-file | --pkcs11-module | --public | \
		--export-digest | --export-payload | --import-signature)
		_otatool_arg=file ;;
	--git-dir) _otatool_arg=dir ;;
	--digest) _otatool_arg='choice sha256 sha384 sha512' ;;
	-t | --type)
		_otatool_arg='choice ecdsa-p256 ecdsa-p384 rsa-2048 rsa-3072 rsa-4096 ed25519' ;;
	--rsa-padding) _otatool_arg='choice pss pkcs1' ;;
	--format) _otatool_arg='choice pem der' ;;
	--algorithm)
		_otatool_arg='choice ecdsa-p256-sha256 ecdsa-p384-sha384 rsa-pss-sha256 rsa-pkcs1-sha256 ed25519' ;;
	--name | --release-version | --hardware | --bootloader-min | \
		--security-counter | --dependency | --image | --build-id | \
		--build-time | --git-commit | --git-branch | --git-tag)
		_otatool_arg=text ;;
	*) _otatool_arg= ;;
	esac
}

# Adds the completions of cur for a value of kind $1 to COMPREPLY.
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
	keyaction)
		for entry in "${_otatool_keys_actions[@]}"; do
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
			_otatool_optarg "$w"
			[[ -n $_otatool_arg ]] && expect=$w
			;;
		esac
	done
	if [[ -n $expect ]]; then
		[[ $cur == = ]] && cur=
		_otatool_optarg "$expect"
		_otatool_complete_arg "$_otatool_arg"
		return 0
	fi

	if [[ -z $dashdash && $cur == -* ]]; then
		if [[ $cur == --*=* ]]; then
			# COMP_WORDBREAKS without "=": complete the value in place.
			local opt=${cur%%=*} n
			_otatool_optarg "$opt"
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
	# otatool keys: the action comes first, then what the action takes.
	if [[ $operand == keyaction && $cword -gt $((cmd_at + 1)) ]]; then
		operand=none
		for entry in "${_otatool_keys_actions[@]}"; do
			if [[ ${entry%% *} == "${COMP_WORDS[cmd_at + 1]}" ]]; then
				operand=${entry#* }
				break
			fi
		done
	fi
	_otatool_complete_arg "$operand"
	return 0
}

complete -F _otatool otatool

import { useRef, useState } from 'react';
import { ActionIcon, TextInput, Tooltip } from '@mantine/core';
import { IconCheck, IconCopy } from '@tabler/icons-react';

async function copyText(text: string, input: HTMLInputElement | null): Promise<boolean> {
  try {
    if (navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall through to the selection fallback
  }
  if (input) {
    input.focus();
    input.select();
    try {
      return document.execCommand('copy');
    } catch {
      return false;
    }
  }
  return false;
}

/** A small copy button for inline values. */
export function CopyIcon({ value, label }: { value: string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <Tooltip label={copied ? 'Copied' : label} withArrow>
      <ActionIcon
        variant="subtle"
        color={copied ? 'teal' : 'gray'}
        size="sm"
        aria-label={label}
        onClick={async () => {
          setCopied(await copyText(value, null));
          setTimeout(() => setCopied(false), 2000);
        }}
      >
        {copied ? <IconCheck size={14} /> : <IconCopy size={14} />}
      </ActionIcon>
    </Tooltip>
  );
}

/** A read-only monospace field with a copy button. */
export function CopyField({ label, value, description }: { label: string; value: string; description?: string }) {
  const ref = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  const onCopy = async () => {
    const ok = await copyText(value, ref.current);
    setCopied(ok ? 'yes' : 'failed');
    setTimeout(() => setCopied(null), 2000);
  };
  const tip = copied === 'yes' ? 'Copied' : copied === 'failed' ? 'Select the text and copy it' : `Copy ${label.toLowerCase()}`;
  return (
    <TextInput
      ref={ref}
      label={label}
      description={description}
      value={value}
      readOnly
      onFocus={(e) => e.currentTarget.select()}
      styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
      rightSectionWidth={42}
      rightSection={
        <Tooltip label={tip} withArrow opened={copied !== null ? true : undefined}>
          <ActionIcon
            variant="subtle"
            color={copied === 'yes' ? 'teal' : 'gray'}
            onClick={onCopy}
            aria-label={`Copy ${label.toLowerCase()}`}
          >
            {copied === 'yes' ? <IconCheck size={16} /> : <IconCopy size={16} />}
          </ActionIcon>
        </Tooltip>
      }
    />
  );
}

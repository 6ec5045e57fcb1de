let context: AudioContext | null = null;

/** Two short tones: audible over a headset, not alarming. Browsers allow it after the first click. */
export function playOfferChime(): void {
  try {
    context ??= new AudioContext();
    const now = context.currentTime;
    for (const [index, frequency] of [880, 1320].entries()) {
      const oscillator = context.createOscillator();
      const gain = context.createGain();
      oscillator.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, now + index * 0.18);
      gain.gain.exponentialRampToValueAtTime(0.15, now + index * 0.18 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + index * 0.18 + 0.16);
      oscillator.connect(gain).connect(context.destination);
      oscillator.start(now + index * 0.18);
      oscillator.stop(now + index * 0.18 + 0.17);
    }
  } catch {
    // No audio device or autoplay blocked: the visual alert still shows.
  }
}

export function loadSoundPreference(): boolean {
  try {
    return localStorage.getItem('baton.sound') !== 'off';
  } catch {
    return true;
  }
}

export function saveSoundPreference(on: boolean): void {
  try {
    localStorage.setItem('baton.sound', on ? 'on' : 'off');
  } catch {
    // Preference is a nicety; ignore storage errors.
  }
}

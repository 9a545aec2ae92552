// WAI-ARIA tabs: click or arrow keys switch; a panel's content is built the first time it is shown.
export class Tabs {
  private readonly tabs: HTMLButtonElement[];
  private readonly builders = new Map<string, () => void>();

  constructor(list: HTMLElement) {
    this.tabs = [...list.querySelectorAll<HTMLButtonElement>('[role="tab"]')];
    list.addEventListener('click', (event) => {
      const tab = (event.target as Element).closest<HTMLButtonElement>('[role="tab"]');
      if (tab) this.show(tab.dataset.tab!);
    });
    list.addEventListener('keydown', (event) => {
      const visible = this.tabs.filter((tab) => !tab.hidden);
      const at = visible.indexOf(event.target as HTMLButtonElement);
      if (at < 0) return;
      const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
      const target = step ? visible[(at + step + visible.length) % visible.length] : event.key === 'Home' ? visible[0] : event.key === 'End' ? visible.at(-1) : undefined;
      if (!target) return;
      event.preventDefault();
      this.show(target.dataset.tab!);
      target.focus();
    });
  }

  /** Sets what fills a tab's panel when it is first shown (replacing any earlier content). */
  onFirstShow(name: string, build: () => void): void {
    this.builders.set(name, build);
    if (this.current() === name) this.runBuilder(name);
  }

  setAvailable(name: string, available: boolean): void {
    const tab = this.tab(name);
    tab.hidden = !available;
    if (!available && this.current() === name) this.show('entries');
  }

  current(): string | undefined {
    return this.tabs.find((tab) => tab.getAttribute('aria-selected') === 'true')?.dataset.tab;
  }

  show(name: string): void {
    for (const tab of this.tabs) {
      const selected = tab.dataset.tab === name;
      tab.setAttribute('aria-selected', String(selected));
      tab.tabIndex = selected ? 0 : -1;
      document.getElementById(tab.getAttribute('aria-controls')!)!.hidden = !selected;
    }
    this.runBuilder(name);
  }

  private runBuilder(name: string): void {
    const build = this.builders.get(name);
    if (!build) return;
    this.builders.delete(name);
    build();
  }

  private tab(name: string): HTMLButtonElement {
    return this.tabs.find((tab) => tab.dataset.tab === name)!;
  }
}

-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "third party";

-- AlterEnum
ALTER TYPE "base"."Kind" ADD VALUE 'C';

-- AlterTable
ALTER TABLE "base"."U" ADD COLUMN     "vid" INTEGER;

-- CreateTable
CREATE TABLE "third party"."W" (
    "id" INTEGER NOT NULL,
    "k" "base"."Kind" NOT NULL DEFAULT 'C',

    CONSTRAINT "W_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "other"."_VToW" (
    "A" INTEGER NOT NULL,
    "B" INTEGER NOT NULL,

    CONSTRAINT "_VToW_AB_pkey" PRIMARY KEY ("A","B")
);

-- CreateIndex
CREATE INDEX "_VToW_B_index" ON "other"."_VToW"("B");

-- CreateIndex
CREATE INDEX "U_vid_idx" ON "base"."U"("vid");

-- AddForeignKey
ALTER TABLE "base"."U" ADD CONSTRAINT "U_vid_fkey" FOREIGN KEY ("vid") REFERENCES "other"."V"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "other"."_VToW" ADD CONSTRAINT "_VToW_A_fkey" FOREIGN KEY ("A") REFERENCES "other"."V"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "other"."_VToW" ADD CONSTRAINT "_VToW_B_fkey" FOREIGN KEY ("B") REFERENCES "third party"."W"("id") ON DELETE CASCADE ON UPDATE CASCADE;

